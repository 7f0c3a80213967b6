/**
 * Process and server faults for the chaos campaign: SIGKILL and SIGSTOP/SIGCONT of the demo's
 * service processes (found under the launcher in /proc), and restarts of the private database
 * and broker servers. Every stopped process is continued again, whatever happens.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { PrivateServer } from './private-servers.js';

export type FaultKind = 'kill' | 'stop' | 'db-restart' | 'broker-restart';

export interface FaultPlan {
  readonly launcherPid: number;
  /** One SIGKILL or SIGSTOP (alternating) this often. */
  readonly processFaultEveryMs: number;
  /** One server restart (database and broker alternating) this often; 0: none. */
  readonly serverRestartEveryMs: number;
  readonly database: PrivateServer;
  readonly broker: PrivateServer;
}

export interface ServiceProcess {
  readonly pid: number;
  readonly name: string;
}

/** The service processes the launcher started (SERVICE and INSTANCE read from their environment). */
export function serviceProcesses(launcherPid: number): ServiceProcess[] {
  const out: ServiceProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      if (ppid !== launcherPid) continue;
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      const service = env.find((e) => e.startsWith('SERVICE='))?.slice(8);
      const instance = env.find((e) => e.startsWith('INSTANCE='))?.slice(9);
      if (service) out.push({ pid: Number(entry), name: `${service}#${instance}` });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

export class FaultInjector {
  readonly counts: Record<FaultKind, number> = { kill: 0, stop: 0, 'db-restart': 0, 'broker-restart': 0 };
  /** Faults that could not be injected (a server that would not come back is fatal, and rethrown). */
  readonly log: string[] = [];
  private readonly stopped = new Set<number>();
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];

  constructor(private readonly plan: FaultPlan) {}

  start(): void {
    this.loops = [this.processFaults(), ...(this.plan.serverRestartEveryMs > 0 ? [this.serverRestarts()] : [])];
  }

  /** Ends the faults, continues every stopped process, and waits for a restart in progress. */
  async finish(): Promise<void> {
    this.abort.abort();
    this.continueAll();
    await Promise.all(this.loops);
    this.continueAll();
  }

  continueAll(): void {
    for (const pid of this.stopped) signal(pid, 'SIGCONT');
    this.stopped.clear();
  }

  private async processFaults(): Promise<void> {
    let kill = true;
    while (!this.abort.signal.aborted) {
      await sleep(this.plan.processFaultEveryMs * (0.5 + Math.random()), this.abort.signal);
      if (this.abort.signal.aborted) break;
      const running = serviceProcesses(this.plan.launcherPid).filter((p) => !this.stopped.has(p.pid));
      const victim = running[Math.floor(Math.random() * running.length)];
      if (!victim) continue;
      if (kill) {
        if (signal(victim.pid, 'SIGKILL')) this.counts.kill++;
      } else if (signal(victim.pid, 'SIGSTOP')) {
        this.counts.stop++;
        this.stopped.add(victim.pid);
        // Frozen for 1-5 s: long enough for leases, acknowledgements and HTTP calls to time out.
        setTimeout(() => {
          if (this.stopped.delete(victim.pid)) signal(victim.pid, 'SIGCONT');
        }, 1_000 + Math.random() * 4_000);
      }
      kill = !kill;
    }
  }

  private async serverRestarts(): Promise<void> {
    let database = true;
    while (!this.abort.signal.aborted) {
      await sleep(this.plan.serverRestartEveryMs * (0.75 + Math.random() / 2), this.abort.signal);
      if (this.abort.signal.aborted) break;
      const server = database ? this.plan.database : this.plan.broker;
      await server.restart();
      this.counts[database ? 'db-restart' : 'broker-restart']++;
      database = !database;
    }
  }
}

function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false; // it exited meanwhile
  }
}
