import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, MessageConsumer, silentLogger, type Relay } from '@concord/core';
import { counterEvent, eventually, serviceAvailable, services, uniqueName } from '@concord/core/testing';
import {
  CommitOutcomeUnknownError,
  createPostgresRelay,
  openPostgresBroker,
  openPostgresStore,
  type PostgresBroker,
  type PostgresStore,
} from './index.js';
import { createTestDatabase, type TestDatabase } from './testing/test-database.js';

/**
 * PostgreSQL stopped (fast shutdown) and started again while services write, relay and
 * consume. Everything must recover by itself: every committed message applied exactly once,
 * in order per key. Run by `npm run test:chaos` only, never beside other test files.
 */
const available = await serviceAvailable(services.postgres);
const version = readdirSync('/etc/postgresql').sort().at(-1) ?? '15';

const run = promisify(execFile);

/** Asynchronous on purpose: blocking the event loop would freeze the relays under test too. */
async function cluster(action: 'start' | 'stop'): Promise<void> {
  const args = ['--skip-systemctl-redirect', version, 'main', action, ...(action === 'stop' ? ['-m', 'fast'] : [])];
  await run('pg_ctlcluster', args);
}

async function ensureStarted(): Promise<void> {
  if (!(await reachable())) {
    try {
      await cluster('start');
    } catch {
      // "already running" races are fine; reachability below decides
    }
  }
  await eventually(reachable, 60_000, 200);
}

async function reachable(): Promise<boolean> {
  try {
    execFileSync('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-q']);
    return true;
  } catch {
    return false;
  }
}

const KEYS = 8;
const PER_KEY = 150;

describe.skipIf(!available)('postgres chaos: server restarted under load', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('chaos');
  });
  afterAll(async () => {
    await ensureStarted();
    await db?.drop();
  });

  for (const mode of ['polling', 'tailing'] as const) {
    it(`${mode} relay: nothing lost, nothing applied twice, order per key kept`, async () => {
      const schema = `chaos_${mode}`;
      const channel = uniqueName(mode);
      const Counted = counterEvent(channel);
      const open = { connectionString: db.url, poolSize: 6, logger: silentLogger, reconnectTimeoutMs: 60_000 };
      const store: PostgresStore = await openPostgresStore({ ...open, schema });
      const broker: PostgresBroker = await openPostgresBroker({ ...open, schema: `${schema}_broker`, leaseMs: 2_000 });
      await store.transaction(async (tx) => {
        await tx.handle.query(`CREATE TABLE public.${schema}_orders (k text, seq int, PRIMARY KEY (k, seq))`);
        await tx.handle.query(`CREATE TABLE public.${schema}_applied (n bigserial, k text, seq int)`);
      });
      const relay: Relay = createPostgresRelay({ mode, store, broker, logger: createLogger({ level: process.env.CHAOS_LOG ?? 'silent' }), pollIntervalMs: 200, slotName: uniqueName('chaos') });
      const consumer = new MessageConsumer({
        name: `${schema}_view`,
        store,
        broker,
        logger: silentLogger,
        maxAttempts: 1_000, // an outage must never park a healthy message
        backoff: { initialMs: 20, maxMs: 500, multiplier: 2, jitter: 0.2 },
      }).handle(Counted, async (tx, p) => {
        await tx.handle.query(`INSERT INTO public.${schema}_applied (k, seq) VALUES ($1, $2)`, [p.key, p.seq]);
      });
      let writeErrors = 0;
      let unknownCommits = 0;

      /** A business write with a caller-assigned key, so a retry after an unknown outcome is harmless. */
      async function write(key: string, seq: number): Promise<void> {
        for (;;) {
          try {
            await store.transaction(async (tx) => {
              const inserted = await tx.handle.query(
                `INSERT INTO public.${schema}_orders (k, seq) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
                [key, seq],
              );
              if (inserted.rowCount === 0) return; // an earlier attempt did commit
              await tx.outbox.send(Counted, { key, seq });
            });
            return;
          } catch (error) {
            writeErrors++;
            if (process.env.CHAOS_LOG) console.warn('write failed', (error as Error).message);
            if (error instanceof CommitOutcomeUnknownError) unknownCommits++;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      }

      let stoppedAt = 0;
      try {
        relay.start();
        await consumer.start();
        const writers = Array.from({ length: KEYS }, async (_, k) => {
          for (let seq = 0; seq < PER_KEY; seq++) {
            await write(`key-${k}`, seq);
            await new Promise((r) => setTimeout(r, 5));
          }
        });
        const applied = async () => {
          const rows = await store.transaction(async (tx) => (await tx.handle.query(`SELECT count(*)::int AS n FROM public.${schema}_applied`)).rows);
          return (rows[0] as { n: number }).n;
        };
        await eventually(async () => (await applied()) > KEYS * PER_KEY * 0.2, 60_000, 50);
        const stopping = Date.now();
        await cluster('stop');
        stoppedAt = Date.now();
        // Nothing of Concord's may hold the shutdown (a walsender waiting for its relay, say).
        const stopMs = stoppedAt - stopping;
        await new Promise((r) => setTimeout(r, 3_000));
        await cluster('start');
        await eventually(reachable, 60_000, 200);
        stoppedAt = 0;
        await Promise.all(writers);
        await eventually(async () => (await applied()) >= KEYS * PER_KEY, 120_000, 200);
        await new Promise((r) => setTimeout(r, 500));

        const rows = (
          await store.transaction(async (tx) => (await tx.handle.query(`SELECT k, seq FROM public.${schema}_applied ORDER BY n`)).rows)
        ) as Array<{ k: string; seq: number }>;
        expect(rows).toHaveLength(KEYS * PER_KEY); // nothing lost, nothing applied twice
        const perKey = new Map<string, number[]>();
        for (const r of rows) perKey.set(r.k, [...(perKey.get(r.k) ?? []), r.seq]);
        for (const [, seqs] of perKey) expect(seqs).toEqual(Array.from({ length: PER_KEY }, (_, i) => i));
        expect(await store.deadLetters.list()).toEqual([]);
        await eventually(async () => (await relay.lag()).count === 0, 30_000);
        console.info(`[chaos ${mode}] shutdown ${stopMs} ms, write retries: ${writeErrors}, commit outcome unknown: ${unknownCommits}`);
        expect(stopMs).toBeLessThan(20_000);
      } finally {
        if (stoppedAt) await ensureStarted();
        await consumer.stop().catch(() => undefined);
        await relay.stop().catch(() => undefined);
        await broker.close().catch(() => undefined);
        await store.close().catch(() => undefined);
      }
    });
  }
});
