import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@concord/core';
import { startDemo } from '../../../examples/customers-orders/src/demo.js';
import { PgDatabaseCounters, type PgCounters } from '../lib/pg-counters.js';
import { portOpen } from '../lib/reachable.js';
import type { BenchRecord, BenchSuite } from '../lib/results.js';
import { runCreateOrderLoad } from '../lib/saga-load.js';

const PG = process.env.CONCORD_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * The demo's CreateOrder saga with every service on PostgreSQL (one database each), through
 * the in-database broker or NATS: sagas/s, latency, and what each saga asks of PostgreSQL
 * (commits and rows read per saga, and commits per second while idle).
 */
async function run(broker: 'postgres' | 'nats', concurrency: number, total: number): Promise<BenchRecord> {
  const base = `bench_saga_${Date.now().toString(36)}`;
  const url = new URL(PG);
  url.pathname = `/${base}`;
  const dir = mkdtempSync(join(tmpdir(), 'concord-bench-pg-saga-'));
  const counters = await PgDatabaseCounters.open(PG, base);
  const brokerUrl = broker === 'nats' ? 'nats://127.0.0.1:4222' : undefined;
  const demo = await startDemo(
    { port: 0, dataDir: dir, sagaMode: 'orchestration', databaseUrl: url.toString(), brokerUrl, brokerPrefix: base.replaceAll('_', '-') },
    silentLogger,
  );
  try {
    const idle0 = await counters.read(0);
    const idle1 = await counters.read(5_000);
    const idleCommitsPerSec = (idle1.commits - idle0.commits) / 5;
    let before: PgCounters = idle1;
    let after: PgCounters = idle1;
    const result = await runCreateOrderLoad(
      demo,
      { total, concurrency, customers: 100, overLimitEvery: 10 },
      { before: async () => void (before = await counters.read()), after: async () => void (after = await counters.read()) },
    );
    const round = (n: number) => Math.round(n * 10) / 10;
    return {
      scenario: `CreateOrder saga, PostgreSQL + ${broker === 'nats' ? 'NATS' : 'in-database broker'}, concurrency ${concurrency}`,
      throughputPerSec: result.perSec,
      p50Ms: result.p50Ms,
      p90Ms: result.p90Ms,
      p99Ms: result.p99Ms,
      count: result.count,
      commitsPerSaga: round((after.commits - before.commits) / result.count),
      rowsReadPerSaga: round((after.rowsRead - before.rowsRead) / result.count),
      idleCommitsPerSec: round(idleCommitsPerSec),
      note: `max ${result.maxMs} ms; 3 services, each its own PostgreSQL database, in one process; 10 % of orders over the limit`,
    };
  } finally {
    await demo.stop();
    await counters.dropAll();
    await counters.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const suite: BenchSuite = {
  name: 'saga-postgres',
  async skip() {
    if (!(await portOpen('127.0.0.1', 5432))) return 'PostgreSQL is not reachable on 127.0.0.1:5432';
    return undefined;
  },
  async run() {
    const records = [await run('postgres', 16, 1_000), await run('postgres', 64, 2_000)];
    if (await portOpen('127.0.0.1', 4222)) records.push(await run('nats', 16, 1_000), await run('nats', 64, 2_000));
    return records;
  },
};
export default suite;
