import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { DurableTimers, silentLogger } from '@concord/core';
import { eventually } from '@concord/core/testing';
import { openSqliteStore } from '../index.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../../..');

/** Starts one timer instance process and waits for its "ready". */
export async function startTimerInstance(args: readonly string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', join(here, 'timer-instance.ts'), ...args], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise<void>((ready, fail) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready')) ready();
    });
    child.once('exit', (code, signal) => fail(new Error(`timer instance exited early (${code ?? signal})`)));
  });
  return child;
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  return exited;
}

/**
 * 10,000 timers, three instances of the service as processes sharing its database, one of them
 * SIGKILLed while it holds leases on timers it is firing: every timer fires exactly once.
 */
export async function timersSurviveKill(count: number, spreadMs: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'concord-timers-crash-'));
  const filename = join(dir, 'service.db');
  const store = await openSqliteStore({ filename, logger: silentLogger });
  const children: ChildProcess[] = [];
  try {
    await store.driver.run((exec) =>
      exec.execute('CREATE TABLE timer_effects (timer_id TEXT NOT NULL, fired_by TEXT NOT NULL, due_at INTEGER NOT NULL, fired_at INTEGER NOT NULL)'),
    );
    const scheduler = new DurableTimers({ store, logger: silentLogger });
    const start = Date.now() + 1_500;
    for (let from = 0; from < count; from += 1_000) {
      await store.transaction(async (tx) => {
        for (let i = from; i < Math.min(count, from + 1_000); i++) {
          await scheduler.schedule(tx, { id: `t-${i}`, kind: 'crash.test', at: start + Math.floor((i * spreadMs) / count), payload: { i } });
        }
      });
    }
    const firedBy = async (who?: string) =>
      Number(
        (
          await store.driver.run((exec) =>
            exec.query<{ n: number }>(`SELECT COUNT(*) AS n FROM timer_effects${who ? ' WHERE fired_by = ?' : ''}`, who ? [who] : []),
          )
        )[0]!.n,
      );
    // SQLite's one writer lock favours whichever process holds it in a tight loop, so with all
    // three running, the victim may never hold a lease when we look. It works alone first and is
    // killed while it holds leases on a batch it claimed and has not fired; the other two then
    // start, wait out its leases, and fire the rest, its orphans included.
    children.push(await startTimerInstance([filename, 'victim', 'crash.test', 'timer_effects', '300']));
    const heldBy = (who: string) =>
      store.driver.run((exec) =>
        exec.query<{ timer_id: string }>(`SELECT timer_id FROM concord_timers WHERE owner = ? AND status = 'SCHEDULED'`, [who]),
      );
    // Half a batch or more still held: the victim is in its pause (or just started firing), so
    // the kill lands before it has fired them all (with "any held", it sometimes had by then).
    await eventually(async () => (await firedBy('victim')) >= count / 20 && (await heldBy('victim')).length >= 50, 60_000, 2);
    await kill(children[0]!);
    const orphaned = (await heldBy('victim')).map((r) => r.timer_id);
    for (const name of ['survivor-1', 'survivor-2']) {
      children.push(await startTimerInstance([filename, name, 'crash.test', 'timer_effects']));
    }
    await eventually(async () => (await firedBy()) >= count, 80_000, 100);
    // Leases of the killed instance run out, and its claimed timers are fired by the others.
    const duplicates = await store.driver.run((exec) =>
      exec.query<{ timer_id: string }>('SELECT timer_id FROM timer_effects GROUP BY timer_id HAVING COUNT(*) > 1'),
    );
    expect(duplicates).toEqual([]);
    expect(await firedBy()).toBe(count);
    expect(await scheduler.countByStatus()).toEqual({ FIRED: count });
    // What the victim held when it died was fired by the others, once, after its lease ran out.
    expect(orphaned.length).toBeGreaterThan(0);
    const orphanFires = await store.driver.run((exec) =>
      exec.query<{ fired_by: string }>(
        `SELECT fired_by FROM timer_effects WHERE timer_id IN (${orphaned.map(() => '?').join(', ')})`,
        orphaned,
      ),
    );
    expect(orphanFires).toHaveLength(orphaned.length);
    expect(orphanFires.every((r) => r.fired_by !== 'victim')).toBe(true);
  } finally {
    for (const child of children) await kill(child);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

