import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { MessageConsumer, silentLogger } from '@concord/core';
import { OUTBOX_SHARDS, partitionFor } from '@concord/core/spi';
import { counterEvent, serviceAvailable, services } from '@concord/core/testing';
import {
  dropPostgresDatabase,
  ensurePostgresDatabase,
  openPostgresBroker,
  openPostgresStore,
  PostgresPollingRelay,
  PostgresTailingRelay,
  type PostgresStore,
} from '@concord/postgres';
import { withDatabase } from '@concord/postgres/spi';
import type { BenchRecord, BenchSuite } from '../lib/results.js';
import { nowMs, summarize } from '../lib/stats.js';

/**
 * PostgreSQL outbox figures, all against the local server (127.0.0.1:5432):
 *  (a) backlog drain rate of the polling and the WAL tailing relay into the in-database broker
 *      (PostgreSQL too, another schema of the same server);
 *  (b) end to end: business transactions (insert + update + outbox row) at a fixed
 *      concurrency → polling relay → broker → MessageConsumer, messages/s and commit→handler;
 *  (c) pgbench on the same server, same concurrency, the same insert + update without Concord;
 *      the ratio (b)/(c) says what the outbox costs.
 */
const run = promisify(execFile);
const SERVER = process.env.CONCORD_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BACKLOG = 50_000;
const KEYS = 64;
const CONCURRENCY = 16;
const E2E_SECONDS = 8;
const ACCOUNTS = 1_000;

async function tempDatabase(tag: string): Promise<string> {
  const url = withDatabase(SERVER, `concord_bench_${tag}_${Date.now().toString(36)}`);
  await ensurePostgresDatabase(url);
  return url;
}

/** N outbox rows written in bulk by SQL (the drain is measured, not the writing). */
async function writeBacklog(store: PostgresStore, channel: string, n: number): Promise<void> {
  const shards = Array.from({ length: KEYS }, (_, k) => partitionFor(`key-${k}`, OUTBOX_SHARDS));
  for (let from = 0; from < n; from += 10_000) {
    await store.driver.run((exec) =>
      exec.execute(
        `INSERT INTO ${store.schema}.outbox (message_id, channel, message_type, partition_key, shard, headers, payload, schema_version, created_at) ` +
          `SELECT gen_random_uuid()::text, ?, 'test.Counted', 'key-' || (i % ${KEYS}), (?::int[])[i % ${KEYS} + 1], '{}', ` +
          `json_build_object('key', 'key-' || (i % ${KEYS}), 'seq', i / ${KEYS})::text, 1, ? FROM generate_series(?::int, ?::int) AS i`,
        [channel, shards, Date.now(), from, Math.min(n, from + 10_000) - 1],
      ),
    );
  }
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not done after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function drainPolling(url: string): Promise<BenchRecord> {
  const store = await openPostgresStore({ connectionString: url, schema: 'drain_poll', poolSize: 8, logger: silentLogger });
  const broker = await openPostgresBroker({ connectionString: url, schema: 'drain_poll_broker', poolSize: 8, logger: silentLogger });
  try {
    await broker.partitionsOf('bench_poll');
    await writeBacklog(store, 'bench_poll', BACKLOG);
    const relay = new PostgresPollingRelay({ store, broker, batchSize: 4_000, publishConcurrency: 4, logger: silentLogger });
    const started = nowMs();
    relay.start();
    await waitFor(() => relay.getStats().published >= BACKLOG, 120_000);
    const seconds = (nowMs() - started) / 1000;
    await relay.stop();
    return drainRecord('drain: polling relay → PG in-database broker', seconds, 'batch 4000, 4 lanes');
  } finally {
    await broker.close();
    await store.close();
  }
}

async function drainTailing(url: string): Promise<BenchRecord> {
  const store = await openPostgresStore({ connectionString: url, schema: 'drain_tail', poolSize: 8, logger: silentLogger });
  const broker = await openPostgresBroker({ connectionString: url, schema: 'drain_tail_broker', poolSize: 8, logger: silentLogger });
  const options = { store, broker, slotName: `concord_bench_${Date.now().toString(36)}`, maxBatchSize: 4_000, logger: silentLogger };
  try {
    await broker.partitionsOf('bench_tail');
    // The slot exists first, then the backlog accumulates in the WAL while no relay runs.
    const setup = new PostgresTailingRelay(options);
    setup.start();
    await waitFor(() => setup.getStats().connects > 0, 30_000);
    await setup.stop();
    await writeBacklog(store, 'bench_tail', BACKLOG);
    const relay = new PostgresTailingRelay({ ...options, dropSlotOnStop: true });
    const started = nowMs();
    relay.start();
    await waitFor(() => relay.getStats().published >= BACKLOG, 120_000);
    const seconds = (nowMs() - started) / 1000;
    await relay.stop();
    return drainRecord('drain: WAL tailing relay → PG in-database broker', seconds, 'batch 4000, 4 lanes, includes connect');
  } finally {
    await broker.close();
    await store.close();
  }
}

function drainRecord(scenario: string, seconds: number, note: string): BenchRecord {
  const perSec = BACKLOG / seconds;
  return { scenario, throughputPerSec: perSec, count: BACKLOG, note: `${seconds.toFixed(2)} s, ${note}, target ≥ 20,000/s` };
}

const BUSINESS_TABLES = [
  `CREATE TABLE IF NOT EXISTS public.accounts (k int PRIMARY KEY, balance bigint NOT NULL DEFAULT 0)`,
  `CREATE TABLE IF NOT EXISTS public.orders (id bigserial PRIMARY KEY, k int NOT NULL, amount int NOT NULL, created_at bigint NOT NULL)`,
];

async function endToEnd(url: string, partitions: number): Promise<{ record: BenchRecord; perSec: number }> {
  const Counted = counterEvent(`bench_e2e_${partitions}`);
  const open = { connectionString: url, logger: silentLogger };
  const producer = await openPostgresStore({ ...open, schema: `producer_${partitions}`, poolSize: CONCURRENCY + 4 });
  const broker = await openPostgresBroker({ ...open, schema: `broker_${partitions}`, poolSize: 10, partitions });
  const consumerStore = await openPostgresStore({ ...open, schema: `consumer_${partitions}`, poolSize: 10 });
  await producer.transaction(async (tx) => {
    for (const ddl of BUSINESS_TABLES) await tx.handle.query(ddl);
    await tx.handle.query(`INSERT INTO public.accounts (k) SELECT g FROM generate_series(1, ${ACCOUNTS}) g ON CONFLICT DO NOTHING`);
  });
  await consumerStore.transaction((tx) => tx.handle.query('CREATE TABLE IF NOT EXISTS public.order_view (k text, seq int)'));
  await broker.partitionsOf(Counted.channel);

  const committedAt = new Map<number, number>();
  const latencies: number[] = [];
  let handled = 0;
  let lastHandledAt = 0;
  const relay = new PostgresPollingRelay({ store: producer, broker, batchSize: 1_000, logger: silentLogger });
  const consumer = new MessageConsumer({ name: 'bench-view', store: consumerStore, broker, logger: silentLogger, maxBatchSize: 500 }).handle(
    Counted,
    async (tx, p) => {
      const t = nowMs();
      const at = committedAt.get(p.seq);
      if (at !== undefined) latencies.push(t - at);
      await tx.handle.query('INSERT INTO public.order_view (k, seq) VALUES ($1, $2)', [p.key, p.seq]);
      handled++;
      lastHandledAt = t;
    },
  );
  const close = async () => {
    await consumer.stop();
    await relay.stop();
    await broker.close();
    await consumerStore.close();
    await producer.close();
  };
  try {
    relay.start();
    await consumer.start();
    let seq = 0;
    const business = async (measure: boolean) => {
      const n = seq++;
      const k = 1 + Math.floor(Math.random() * ACCOUNTS);
      await producer.transaction(async (tx) => {
        await tx.handle.query('INSERT INTO public.orders (k, amount, created_at) VALUES ($1, 1, $2)', [k, Date.now()]);
        await tx.handle.query('UPDATE public.accounts SET balance = balance + 1 WHERE k = $1', [k]);
        await tx.outbox.send(Counted, { key: `key-${n % KEYS}`, seq: n });
      });
      if (measure) committedAt.set(n, nowMs());
    };
    const load = async (seconds: number, measure: boolean) => {
      const until = nowMs() + seconds * 1000;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (nowMs() < until) await business(measure);
        }),
      );
    };
    await load(1, false); // warm-up: pools, JIT, statement caches
    await waitFor(() => handled >= seq, 30_000);
    const firstMeasured = seq;
    const handledBefore = handled;
    const started = nowMs();
    await load(E2E_SECONDS, true);
    const sent = seq - firstMeasured;
    await waitFor(() => handled - handledBefore >= sent, 60_000);
    const seconds = (lastHandledAt - started) / 1000;
    const perSec = sent / seconds;
    const lat = summarize(latencies);
    return {
      perSec,
      record: {
        scenario: `end to end: insert + update + outbox, ${CONCURRENCY} producers → polling relay → PG broker (${partitions} partitions) → consumer`,
        throughputPerSec: perSec,
        p50Ms: lat.p50Ms,
        p90Ms: lat.p90Ms,
        p99Ms: lat.p99Ms,
        count: sent,
        note: `commit→handler; max ${lat.maxMs} ms`,
      },
    };
  } finally {
    await close();
  }
}

const PGBENCH_SCRIPT = `\\set k random(1, ${ACCOUNTS})
BEGIN;
INSERT INTO public.orders (k, amount, created_at) VALUES (:k, 1, 0);
UPDATE public.accounts SET balance = balance + 1 WHERE k = :k;
END;
`;

async function pgbench(url: string): Promise<{ record: BenchRecord; tps: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const ddl of BUSINESS_TABLES) await client.query(ddl);
    await client.query(`INSERT INTO public.accounts (k) SELECT g FROM generate_series(1, ${ACCOUNTS}) g ON CONFLICT DO NOTHING`);
  } finally {
    await client.end();
  }
  const dir = mkdtempSync(join(tmpdir(), 'concord-pgbench-'));
  try {
    const script = join(dir, 'insert-update.sql');
    writeFileSync(script, PGBENCH_SCRIPT);
    const u = new URL(url);
    const args = ['-n', '-c', String(CONCURRENCY), '-j', '2', '-T', String(E2E_SECONDS), '-f', script];
    args.push('-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres'), u.pathname.slice(1));
    const { stdout } = await run(pgbenchBinary(), args, { env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password) } });
    const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
    const latency = Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1]);
    if (!Number.isFinite(tps)) throw new Error(`could not read pgbench output:\n${stdout}`);
    return {
      tps,
      record: {
        scenario: `pgbench: the same insert + update, ${CONCURRENCY} clients, no Concord`,
        throughputPerSec: tps,
        count: Math.round(tps * E2E_SECONDS),
        note: `latency avg ${latency} ms`,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function pgbenchBinary(): string {
  return process.env.PGBENCH ?? '/usr/lib/postgresql/15/bin/pgbench';
}

const suite: BenchSuite = {
  name: 'postgres-outbox',
  async skip() {
    const available = await serviceAvailable({ ...services.postgres }).catch(() => false);
    if (!available) return 'PostgreSQL is not reachable on 127.0.0.1:5432';
    try {
      await run(pgbenchBinary(), ['--version']);
    } catch {
      return `pgbench not found at ${pgbenchBinary()} (set PGBENCH)`;
    }
    return undefined;
  },
  async run() {
    const records: BenchRecord[] = [];
    const url = await tempDatabase('pg');
    const pgbenchUrl = await tempDatabase('pgbench');
    try {
      records.push(await drainPolling(url));
      records.push(await drainTailing(url));
      const e2e = await endToEnd(url, 16);
      records.push(e2e.record);
      const e2eFewer = await endToEnd(url, 4);
      records.push(e2eFewer.record);
      const bench = await pgbench(pgbenchUrl);
      records.push(bench.record);
      for (const [label, r] of [['16', e2e], ['4', e2eFewer]] as const) {
        const ratio = r.perSec / bench.tps;
        records.push({ scenario: `ratio end to end (${label} partitions) / pgbench`, ratio, note: `${ratio.toFixed(2)} (target ≥ 0.5)` });
      }
      return records;
    } finally {
      await dropPostgresDatabase(url).catch(() => undefined);
      await dropPostgresDatabase(pgbenchUrl).catch(() => undefined);
    }
  },
};
export default suite;
