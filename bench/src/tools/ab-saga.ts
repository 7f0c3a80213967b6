/**
 * One configuration of the demo's CreateOrder saga, one line of JSON: for A/B runs of two
 * checkouts back to back on the same machine (a worktree of the old commit beside this one),
 * where a full `npm run bench` would take too long and machines drift between runs.
 *
 * Usage: npx tsx --conditions=development bench/src/tools/ab-saga.ts <configuration> [concurrency] [total]
 * where the configuration is sqlite, postgres, nats (PostgreSQL + NATS), mysql, or a store and a
 * broker: mysql+rabbitmq, postgres+rabbitmq, postgres+redis...
 * With CONCORD_AB_TABLES=1 it also prints, per PostgreSQL database, the tables and indexes
 * that were read most (rows per measured saga, warm-up included), to find where "rows read per
 * saga" comes from. With CONCORD_AB_STAGES=1 it prints the mean relay publish, consumer batch and
 * consumer lag (oldest message's age when its batch began) per service and consumer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { silentLogger } from '@concord/core';
import { startDemo } from '../../../examples/customers-orders/src/demo.js';
import { deleteNatsStreams, deleteRabbitTopology } from '../lib/broker-cleanup.js';
import { dropMariaDbDatabases } from '../lib/mariadb-counters.js';
import { PgDatabaseCounters, type PgCounters } from '../lib/pg-counters.js';
import { runCreateOrderLoad } from '../lib/saga-load.js';
import { printTableReads } from '../lib/table-reads.js';

const broker = process.argv[2] ?? 'postgres';
const concurrency = Number(process.argv[3] ?? 64);
const total = Number(process.argv[4] ?? 2000);
const [storeName, brokerName] = broker === 'nats' ? ['postgres', 'nats'] : broker.split('+');
const BROKER_URLS: Record<string, string> = { nats: 'nats://127.0.0.1:4222', rabbitmq: 'amqp://guest:guest@127.0.0.1:5672', redis: 'redis://127.0.0.1:6379' };
if (!['sqlite', 'postgres', 'mysql'].includes(storeName!) || (brokerName !== undefined && !BROKER_URLS[brokerName]))
  throw new Error(`give sqlite, postgres or mysql, optionally +nats, +rabbitmq or +redis; not ${broker}`);
const sqlite = storeName === 'sqlite';
const mysql = storeName === 'mysql';
const PG = process.env.CONCORD_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const base = `ab_saga_${Date.now().toString(36)}`;
const url = new URL(PG);
url.pathname = `/${base}`;
const dir = mkdtempSync(join(tmpdir(), 'concord-ab-'));
const counters = await PgDatabaseCounters.open(PG, base);
const demo = await startDemo(
  {
    port: 0,
    dataDir: dir,
    sagaMode: 'orchestration',
    databaseUrl: sqlite ? undefined : mysql ? `mysql://root@127.0.0.1:3306/${base}` : url.toString(),
    brokerUrl: brokerName ? BROKER_URLS[brokerName] : undefined,
    brokerPrefix: base.replaceAll('_', '-'),
  },
  silentLogger,
);
try {
  let before: PgCounters | undefined;
  let after: PgCounters | undefined;
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const cpu0 = process.cpuUsage();
  const r = await runCreateOrderLoad(
    demo,
    { total, concurrency, customers: 100, overLimitEvery: 10 },
    sqlite || mysql ? undefined : { before: async () => void (before = await counters.read()), after: async () => void (after = await counters.read()) },
  );
  const cpu = process.cpuUsage(cpu0);
  const per = (n: number) => Math.round((n / r.count) * 10) / 10;
  console.log(
    JSON.stringify({
      tree: process.cwd(),
      broker,
      concurrency,
      perSec: Math.round(r.perSec),
      p50: r.p50Ms,
      p99: r.p99Ms,
      max: r.maxMs,
      ...(before && after ? { commits: per(after.commits - before.commits), rows: per(after.rowsRead - before.rowsRead) } : {}),
      nodeCpuMsPerSaga: Math.round(((cpu.user + cpu.system) / 1000 / r.count) * 100) / 100,
    }),
  );
  // CONCORD_AB_STAGES=1: where a saga waits, from the demo's own metrics (means over the run).
  loopDelay.disable();
  if (process.env.CONCORD_AB_STAGES) {
    const ms = (ns: number) => (ns / 1e6).toFixed(2);
    console.log(`event loop delay: mean ${ms(loopDelay.mean)} ms, p50 ${ms(loopDelay.percentile(50))}, p99 ${ms(loopDelay.percentile(99))}, max ${ms(loopDelay.max)}`);
  }
  if (process.env.CONCORD_AB_STAGES) printStageMeans(await (await fetch(`${demo.url}/metrics`)).text());
  if (process.env.CONCORD_AB_TABLES && !sqlite && !mysql) {
    await printTableReads(PG, [...(brokerName ? [] : ['broker']), 'order_service', 'customer_service', 'order_history'].map((db) => `${base}_${db}`), r.count);
  }
} finally {
  await demo.stop();
  await counters.dropAll();
  await counters.close();
  if (mysql) await dropMariaDbDatabases(base);
  if (brokerName === 'rabbitmq') await deleteRabbitTopology(base.replaceAll('_', '-'));
  if (brokerName === 'nats') await deleteNatsStreams(base.replaceAll('_', '-'));
  rmSync(dir, { recursive: true, force: true });
}

/** Mean of each `_sum`/`_count` pair of the stage histograms, per label set. */
function printStageMeans(metrics: string): void {
  const sums = new Map<string, number>();
  const counts = new Map<string, number>();
  for (const line of metrics.split('\n')) {
    const m = /^(concord_(?:relay_publish_duration|consumer_batch_duration|consumer_lag)_seconds)_(sum|count)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m) continue;
    (m[2] === 'sum' ? sums : counts).set(`${m[1]}${m[3] ?? ''}`, Number(m[4]));
  }
  for (const [key, sum] of sums) {
    const n = counts.get(key) ?? 0;
    if (n > 0) console.log(`${(sum / n * 1000).toFixed(2).padStart(8)} ms mean over ${String(n).padStart(6)}  ${key}`);
  }
}
