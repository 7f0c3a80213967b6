/**
 * Profiles the demo's CreateOrder saga on a PostgreSQL that has pg_stat_statements loaded:
 * runs a closed loop, then prints, per database, the statements by calls and rows per saga.
 * Usage: CONCORD_PROFILE_PG_URL=postgres://postgres@127.0.0.1:19500/postgres \
 *   npx tsx bench/src/tools/pg-profile.ts [postgres|nats] [concurrency] [total]
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import pg from 'pg';
import { silentLogger } from '@concord/core';
import { startDemo } from '../../../examples/customers-orders/src/demo.js';
import { settleStatistics } from '../lib/pg-counters.js';
import { runCreateOrderLoad } from '../lib/saga-load.js';

const PG = process.env.CONCORD_PROFILE_PG_URL ?? 'postgres://postgres@127.0.0.1:19500/postgres';
const broker = (process.argv[2] ?? 'postgres') as 'postgres' | 'nats';
const concurrency = Number(process.argv[3] ?? 64);
const total = Number(process.argv[4] ?? 2000);

// Socket writes of this process (to PostgreSQL, the broker...): what each round trip costs here.
let writes = 0;
const proto = net.Socket.prototype as unknown as { _writeGeneric: (...a: unknown[]) => unknown };
const original = proto._writeGeneric;
proto._writeGeneric = function (this: unknown, ...a: unknown[]) {
  writes++;
  return original.apply(this, a);
};
// CPU of the profiled cluster's processes (children of its postmaster), in ms; Linux only.
const postmaster = process.env.CONCORD_PROFILE_PG_DATA ? Number(readFileSync(`${process.env.CONCORD_PROFILE_PG_DATA}/postmaster.pid`, 'utf8').split('\n')[0]) : 0;
function clusterCpuMs(): number {
  if (!postmaster) return 0;
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === postmaster || Number(pid) === postmaster) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks * 10;
}
let pg0 = 0;
let pg1 = 0;
const admin = new pg.Client({ connectionString: PG });
await admin.connect();
const base = `prof_${Date.now().toString(36)}`;
const url = new URL(PG);
url.pathname = `/${base}`;
const dir = mkdtempSync(join(tmpdir(), 'concord-prof-'));
const demo = await startDemo(
  { port: 0, dataDir: dir, sagaMode: 'orchestration', databaseUrl: url.toString(), brokerUrl: broker === 'nats' ? 'nats://127.0.0.1:4222' : undefined, brokerPrefix: base.replaceAll('_', '-') },
  silentLogger,
);
let count = 0;
let cpu0 = process.cpuUsage();
let cpu1 = process.cpuUsage();
let writes0 = 0;
let writes1 = 0;
let tables0 = new Map<string, number[]>();
/** Per database and table: seq scans, rows they read, index scans, rows they fetched. */
async function tableReads(): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  const dbs = await admin.query<{ datname: string }>('select datname from pg_database where datname like $1', [`${base}%`]);
  for (const { datname } of dbs.rows) {
    const u = new URL(PG);
    u.pathname = `/${datname}`;
    const c = new pg.Client({ connectionString: u.toString() });
    await c.connect();
    const t = await c.query(`select schemaname||'.'||relname t, seq_scan, seq_tup_read, idx_scan, idx_tup_fetch from pg_stat_all_tables`);
    for (const r of t.rows) out.set(`${datname} ${r.t}`, [r.seq_scan, r.seq_tup_read, r.idx_scan, r.idx_tup_fetch].map((v) => Number(v ?? 0)));
    await c.end();
  }
  return out;
}
try {
  const r = await runCreateOrderLoad(demo, { total, concurrency, customers: 100, overLimitEvery: 10 }, {
    before: async () => {
      await settleStatistics();
      tables0 = await tableReads();
      await admin.query('select pg_stat_statements_reset()');
      cpu0 = process.cpuUsage();
      pg0 = clusterCpuMs();
      writes0 = writes;
    },
    after: async () => {
      cpu1 = process.cpuUsage(cpu0);
      pg1 = clusterCpuMs();
      writes1 = writes;
    },
  });
  count = r.count;
  console.log(`sagas/s ${r.perSec.toFixed(0)} p50 ${r.p50Ms} p99 ${r.p99Ms} count ${r.count}`);
  console.log(`node cpu ms/saga ${((cpu1.user + cpu1.system) / 1000 / count).toFixed(2)} (sys ${(cpu1.system / 1000 / count).toFixed(2)}); socket writes/saga ${((writes1 - writes0) / count).toFixed(1)}; PostgreSQL cpu ms/saga ${((pg1 - pg0) / count).toFixed(2)}`);
  const { rows } = await admin.query(
    `select d.datname, s.calls, s.rows, s.shared_blks_hit, round(s.total_exec_time::numeric,0) ms, left(regexp_replace(s.query, '\\s+', ' ', 'g'), 160) q
       from pg_stat_statements s join pg_database d on d.oid = s.dbid
      where d.datname like $1 order by s.total_exec_time desc limit 40`,
    [`${base}%`],
  );
  for (const x of rows)
    console.log(`${x.datname.slice(base.length)}\tcalls/saga ${(x.calls / count).toFixed(2)}\trows/saga ${(x.rows / count).toFixed(1)}\tblks/saga ${(x.shared_blks_hit / count).toFixed(0)}\t${x.ms}ms\t${x.q}`);
  await settleStatistics();
  const db = await admin.query(
    `select datname, xact_commit, tup_returned, tup_fetched from pg_stat_database where datname like $1`, [`${base}%`]);
  for (const x of db.rows) console.log(x.datname, x.xact_commit, x.tup_returned, x.tup_fetched);
  // Which tables the rows read come from (user and catalog), per database: seq and index reads.
  const tables1 = await tableReads();
  for (const [key, r] of tables1) {
    const r0 = tables0.get(key) ?? [0, 0, 0, 0];
    const d = r.map((v, i) => (v - r0[i]!) / count);
    if (d[1]! + d[3]! > 0.1) console.log(`  ${key.slice(base.length)}: seq ${d[0]!.toFixed(2)}/saga reading ${d[1]!.toFixed(1)}; idx ${d[2]!.toFixed(2)}/saga fetching ${d[3]!.toFixed(1)}`);
  }
} finally {
  await demo.stop();
  rmSync(dir, { recursive: true, force: true });
  const dbs = await admin.query(`select datname from pg_database where datname like $1`, [`${base}%`]);
  for (const d of dbs.rows) await admin.query(`drop database "${d.datname}" with (force)`);
  await admin.end();
}
