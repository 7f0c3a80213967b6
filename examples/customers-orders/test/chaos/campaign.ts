/**
 * One chaos campaign run: private database and broker servers, the distributed demo on them
 * (launched as `npm run start:distributed` does: two processes per service and the gateway),
 * a steady order load through the gateway while processes are killed and frozen, servers are
 * restarted and deliveries are duplicated and reordered; then a settle phase and the invariants.
 * Everything it started is stopped at the end, also on failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FaultInjector, serviceProcesses, type FaultKind } from './fault-injector.js';
import { checkInvariants, type Snapshot } from './invariants.js';
import { createCustomers, runOrderLoad } from './order-load.js';
import { startMariadb, startNats, startPostgres, startRabbitmq, startRedis, type PrivateServer } from './private-servers.js';
import { privateDir, track, untrack } from './server-process.js';
import { openReader, type SqlReader } from './sql-reader.js';

export type Variant = 'postgres+nats' | 'mariadb+rabbitmq' | 'postgres+redis';

export interface CampaignOptions {
  readonly variant: Variant;
  /** The gateway listens here; services on the next 6 ports; private servers on base+10… */
  readonly basePort: number;
  readonly loadMs: number;
  readonly workers?: number;
  readonly processFaultEveryMs: number;
  /** 0: no server restarts. */
  readonly serverRestartEveryMs: number;
  /** Chance of each delivery fault at each opportunity in the service processes. */
  readonly deliveryFaultProbability: number;
  /** How long the system may take to settle after the load. */
  readonly settleMs?: number;
}

export interface CampaignResult {
  readonly variant: Variant;
  readonly sagas: number;
  readonly faults: Record<FaultKind | 'duplicate' | 'reorder', number>;
  readonly violations: string[];
  readonly snapshot: Snapshot | undefined;
  /** The one summary line. */
  readonly line: string;
}

const launcherScript = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'src', 'distributed', 'main.ts');

async function startServers(variant: Variant, base: number): Promise<{ database: PrivateServer; broker: PrivateServer }> {
  const database = variant.startsWith('mariadb') ? await startMariadb(base + 10) : await startPostgres(base + 10);
  try {
    const broker =
      variant.endsWith('nats') ? await startNats(base + 11) : variant.endsWith('redis') ? await startRedis(base + 12) : await startRabbitmq(base + 13, base + 14);
    return { database, broker };
  } catch (error) {
    await database.stop();
    throw error;
  }
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  const work = privateDir('campaign');
  const countsDir = join(work, 'counts');
  mkdirSync(countsDir);
  const { database, broker } = await startServers(o.variant, o.basePort);
  let launcher: ChildProcess | undefined;
  let faults: FaultInjector | undefined;
  const readers: SqlReader[] = [];
  try {
    const log = openSync(join(work, 'demo.log'), 'a');
    launcher = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', launcherScript], {
      env: {
        ...process.env,
        PORT: String(o.basePort),
        CONCORD_DATABASE_URL: database.url,
        CONCORD_BROKER_URL: broker.url,
        CONCORD_BROKER_PREFIX: 'chaos',
        CONCORD_LOG_LEVEL: 'error',
        CONCORD_CHAOS_DELIVERY: String(o.deliveryFaultProbability),
        CONCORD_CHAOS_COUNTS_DIR: countsDir,
      },
      stdio: ['ignore', log, log],
    });
    track(launcher.pid);
    const url = `http://127.0.0.1:${o.basePort}`;
    await waitFor(async () => (await fetch(`${url}/health`)).ok, 300_000, `the demo's gateway on ${url} (log: ${join(work, 'demo.log')})`);
    // Limits low enough that many orders are refused for credit (their sagas compensate) and cancels give credit back.
    const customerIds = await createCustomers(url, 20, '5000.00');

    faults = new FaultInjector({
      launcherPid: launcher.pid!,
      processFaultEveryMs: o.processFaultEveryMs,
      serverRestartEveryMs: o.serverRestartEveryMs,
      database,
      broker,
    });
    faults.start();
    const until = Date.now() + o.loadMs;
    const load = await runOrderLoad({
      url,
      customerIds,
      workers: o.workers ?? 48,
      until,
      giveUpAt: until + 120_000,
      cancelShare: 0.25,
      keyPrefix: `chaos-${o.variant}`,
    }).finally(() => faults!.finish());

    for (const service of ['customer-service', 'order-service', 'order-history']) readers.push(await openReader(database.url, service));
    const db = { customers: readers[0]!, orders: readers[1]!, history: readers[2]! };
    // Settle: the system may finish what is in flight; the invariants are read once it is quiet (or time is up).
    const settleUntil = Date.now() + (o.settleMs ?? 240_000);
    let snapshot: Snapshot;
    for (;;) {
      snapshot = await checkInvariants(db, load);
      if (snapshot.unsettled === 0 || Date.now() > settleUntil) break;
      await new Promise((r) => setTimeout(r, 2_000));
    }
    await stopLauncher(launcher);
    const delivery = deliveryCounts(countsDir);
    const result = summarize(o.variant, snapshot, { ...faults.counts, ...delivery }, [...load.unexpected, ...snapshot.violations]);
    if (result.violations.length > 0) {
      writeFileSync(join(work, 'violations.txt'), result.violations.join('\n'));
      console.error(`violations: ${join(work, 'violations.txt')}; demo log: ${join(work, 'demo.log')}\n${tail(join(work, 'demo.log'))}`);
    }
    else rmSync(work, { recursive: true, force: true });
    return result;
  } finally {
    faults?.continueAll();
    for (const r of readers) await r.close().catch(() => undefined);
    if (launcher) await stopLauncher(launcher);
    await broker.stop().catch((e: unknown) => console.error(`stopping the private ${broker.kind}: ${String(e)}`));
    await database.stop().catch((e: unknown) => console.error(`stopping the private ${database.kind}: ${String(e)}`));
  }
}

function summarize(variant: Variant, snapshot: Snapshot, faults: CampaignResult['faults'], violations: string[]): CampaignResult {
  const kinds = Object.entries(faults).map(([k, n]) => `${k}=${n}`).join(' ');
  const statuses = Object.entries(snapshot.sagasByStatus).map(([k, n]) => `${k.toLowerCase()}=${n}`).join(' ');
  const line = `chaos ${variant}: sagas=${snapshot.sagas} (${statuses}) orders=${snapshot.orders} faults: ${kinds} violations=${violations.length}`;
  return { variant, sagas: snapshot.sagas, faults, violations, snapshot, line };
}

/** Duplicates and reorders the service processes injected (files they rewrite every second). */
function deliveryCounts(dir: string): { duplicate: number; reorder: number } {
  let duplicate = 0;
  let reorder = 0;
  for (const file of readdirSync(dir)) {
    try {
      const c = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, number>;
      duplicate += (c.publishDuplicates ?? 0) + (c.deliveryDuplicates ?? 0);
      reorder += (c.publishReorders ?? 0) + (c.deliveryReorders ?? 0);
    } catch {
      // a file being rewritten as the process was killed: its counts are lost, not invented
    }
  }
  return { duplicate, reorder };
}

/** SIGTERM to the launcher (it stops its services); SIGKILL to all of them after 60 s. */
async function stopLauncher(launcher: ChildProcess): Promise<void> {
  if (launcher.exitCode !== null || launcher.signalCode !== null) return;
  const children = serviceProcesses(launcher.pid!);
  for (const c of children) signal(c.pid, 'SIGCONT');
  const exited = new Promise((r) => launcher.once('exit', r));
  launcher.kill('SIGTERM');
  const killer = setTimeout(() => {
    for (const c of serviceProcesses(launcher.pid!)) signal(c.pid, 'SIGKILL');
    launcher.kill('SIGKILL');
  }, 60_000);
  await exited;
  clearTimeout(killer);
  untrack(launcher.pid);
  for (const c of children) signal(c.pid, 'SIGKILL'); // a service the launcher could not stop
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone already
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-40).join('\n');
  } catch {
    return '';
  }
}
