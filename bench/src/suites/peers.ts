import { portOpen } from '../lib/reachable.js';
import { deleteNatsStreams, deleteRabbitTopology } from '../lib/broker-cleanup.js';
import { runClosedLoop } from '../lib/closed-loop.js';
import { dropMariaDbDatabases, readMariaDbCounters } from '../lib/mariadb-counters.js';
import { PgDatabaseCounters } from '../lib/pg-counters.js';
import { cpuMsOf } from '../lib/process-cpu.js';
import type { BenchRecord, BenchSuite } from '../lib/results.js';
import { openConcord, openConcordDistributed } from '../peers/concord.js';
import { openDbos } from '../peers/dbos.js';
import { openHandWritten } from '../peers/hand-written.js';
import { OrderDatabases } from '../peers/order-databases.js';
import type { PeerSystem } from '../peers/peer-system.js';
import { openRestate } from '../peers/restate.js';

const ADMIN = process.env.CONCORD_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** CONCORD_BENCH_SCALE (default 1) shrinks or grows every load, e.g. 0.1 for a smoke run. */
const scale = Number(process.env.CONCORD_BENCH_SCALE ?? 1);
const LOADS = [
  { concurrency: 16, total: Math.max(50, Math.round(1_500 * scale)) },
  { concurrency: 64, total: Math.max(100, Math.round(3_000 * scale)) },
];

interface Row {
  readonly open: (prefix: string) => Promise<PeerSystem>;
  readonly counters: 'postgres' | 'mariadb' | 'none';
  readonly needs: readonly number[];
  /** Removes what the row left in its broker (streams, queues), by the names' prefix. */
  readonly cleanup?: (brokerPrefix: string) => Promise<void>;
}

const run = Date.now().toString(36);
const rows: Row[] = [
  { open: (p) => openHandWritten(p), counters: 'postgres', needs: [5432] },
  { open: (p) => openDbos(p), counters: 'postgres', needs: [5432] },
  { open: (p) => openRestate(p, 28_900), counters: 'postgres', needs: [5432] },
  { open: (p) => openConcord('Concord, SQLite (embedded)', p, 'sqlite'), counters: 'none', needs: [] },
  { open: (p) => openConcord('Concord, PostgreSQL + in-database broker', p, 'postgres'), counters: 'postgres', needs: [5432] },
  { open: (p) => openConcord('Concord, PostgreSQL + NATS', p, 'postgres', 'nats://127.0.0.1:4222'), counters: 'postgres', needs: [5432, 4222], cleanup: (p) => deleteNatsStreams(p) },
  {
    open: (p) => openConcord('Concord, MariaDB + RabbitMQ', p, 'mysql', 'amqp://guest:guest@127.0.0.1:5672'),
    counters: 'mariadb',
    needs: [3306, 5672],
    cleanup: (p) => deleteRabbitTopology(p),
  },
  { open: (p) => openConcordDistributed(p), counters: 'postgres', needs: [5432, 4222], cleanup: (p) => deleteNatsStreams(p) },
];

async function measure(system: PeerSystem, counters: Row['counters'], concurrency: number, total: number): Promise<BenchRecord> {
  const pg = counters === 'postgres' ? await PgDatabaseCounters.open(ADMIN, system.databasePrefix) : undefined;
  let before = { commits: 0, rowsRead: 0 };
  let after = before;
  let helperCpu0 = 0;
  let helperCpu = 0;
  const read = async () => (pg ? pg.read() : counters === 'mariadb' ? readMariaDbCounters() : { commits: 0, rowsRead: 0 });
  try {
    const result = await runClosedLoop({
      total,
      concurrency,
      warmup: Math.max(50, Math.round(200 * scale)),
      oneUnit: (i) => system.runSaga(i),
      before: async () => {
        before = await read();
        helperCpu0 = cpuMsOf(system.helperPids?.() ?? []);
      },
      after: async () => {
        helperCpu = cpuMsOf(system.helperPids?.() ?? []) - helperCpu0;
        after = await read();
      },
    });
    const per = (n: number) => Math.round((n / result.count) * 10) / 10;
    return {
      scenario: `${system.name}, concurrency ${concurrency}`,
      throughputPerSec: result.perSec,
      p50Ms: result.p50Ms,
      p90Ms: result.p90Ms,
      p99Ms: result.p99Ms,
      count: result.count,
      ...(counters === 'none' ? {} : { commitsPerSaga: per(after.commits - before.commits), rowsReadPerSaga: per(after.rowsRead - before.rowsRead) }),
      benchCpuMsPerSaga: per(result.cpuMs),
      ...(system.helperPids ? { otherProcessesCpuMsPerSaga: per(helperCpu) } : {}),
      note: `max ${result.maxMs} ms${counters === 'mariadb' ? '; MariaDB counters are server-wide' : ''}`,
    };
  } finally {
    await pg?.close();
  }
}

/**
 * The same create-order saga (100 customers, every 10th order over the limit) on Concord's
 * configurations and on its peers, one after another in one run, each at concurrency 16 and
 * 64 under one closed-loop harness: sagas/s, latency, and what each asks of the database.
 */
const suite: BenchSuite = {
  name: 'peers',
  async skip() {
    return (await portOpen('127.0.0.1', 5432)) ? undefined : 'PostgreSQL is not reachable on 127.0.0.1:5432';
  },
  async run() {
    const records: BenchRecord[] = [];
    // CONCORD_PEERS_ROWS=4,7 runs only those rows (0-based), e.g. while working on one system.
    const only = process.env.CONCORD_PEERS_ROWS?.split(',').map(Number);
    for (const [index, row] of rows.entries()) {
      if (only && !only.includes(index)) continue;
      const open = await Promise.all(row.needs.map((port) => portOpen('127.0.0.1', port)));
      if (open.includes(false)) {
        console.log(`peers: skipping row ${index} (a server on ports ${row.needs.join(', ')} is not reachable)`);
        continue;
      }
      const prefix = `peers_${run}_${index}`;
      const system = await row.open(prefix);
      try {
        for (const load of LOADS) {
          const record = await measure(system, row.counters, load.concurrency, load.total);
          console.log(`  ${record.scenario}: ${Math.round(record.throughputPerSec ?? 0)} sagas/s, p99 ${record.p99Ms} ms`);
          records.push(record);
        }
      } finally {
        await system.close();
        if (row.counters === 'postgres') await OrderDatabases.drop(prefix);
        if (row.counters === 'mariadb') await dropMariaDbDatabases(prefix);
        await row.cleanup?.(prefix.replaceAll('_', '-')).catch((error: unknown) => console.warn(`peers: cleanup of ${prefix} failed`, error));
      }
    }
    return records;
  },
};
export default suite;
