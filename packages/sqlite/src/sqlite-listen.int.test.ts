import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '@concord/core/testing';
import { SqliteDriver } from './sqlite-driver.js';

describe('sqlite driver: wake-ups across connections', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function open(filename: string): SqliteDriver {
    const driver = new SqliteDriver({ filename });
    cleanups.push(() => driver.close());
    return driver;
  }

  it("wakes a listener when another connection (another process's) commits to the file, within a few ms", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'concord-sqlite-listen-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'shared.db');
    const writer = open(file);
    const watcher = open(file);
    await writer.run((exec) => exec.execute('CREATE TABLE t (v INTEGER)'));
    let woken = 0;
    const unlisten = await watcher.listen('anything', () => woken++);
    await new Promise((r) => setTimeout(r, 30));
    expect(woken).toBe(0);
    const started = Date.now();
    await writer.transaction((exec) => exec.execute('INSERT INTO t (v) VALUES (1)'));
    await eventually(() => woken > 0, 200);
    expect(Date.now() - started).toBeLessThan(200);
    await unlisten();
    const before = woken;
    await writer.transaction((exec) => exec.execute('INSERT INTO t (v) VALUES (2)'));
    await new Promise((r) => setTimeout(r, 50));
    expect(woken).toBe(before);
  });

  it("wakes this process's listeners of a topic its own commit notified, unless they opted out", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'concord-sqlite-listen-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const driver = open(join(dir, 'own.db'));
    await driver.run((exec) => exec.execute('CREATE TABLE t (v INTEGER)'));
    const calls: string[] = [];
    await driver.listen('a', () => calls.push('a'));
    await driver.listen('b', () => calls.push('b'));
    await driver.listen('a', () => calls.push('a-remote-only'), { includeLocalCommits: false });
    await driver.transaction(async (exec) => {
      await exec.execute('INSERT INTO t (v) VALUES (1)');
      await driver.notify(exec, 'a');
    });
    expect(calls).toEqual(['a']);
  });
});
