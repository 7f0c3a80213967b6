import type { Logger } from '../ports/logger.js';
import type { LockGraphSource } from './lock-graph-source.js';
import { findWaitCycles, type WaitCycle, type WaitEdge } from './waits-for-graph.js';

export interface DeadlockDetectorOptions {
  /** This service's part of the graph: the detector breaks only cycles whose victim waits here. */
  readonly local: LockGraphSource;
  /** The other services' parts (their lock tables, read-only). */
  readonly peers: readonly LockGraphSource[];
  /** How often the graph is read. A cycle is broken within about two intervals. Default 200 ms. */
  readonly intervalMs?: number;
  /** Fails the victim's parked command; false when the wait was gone already. */
  readonly breakWait: (victim: WaitEdge, cycle: WaitCycle) => Promise<boolean>;
  readonly logger: Logger;
}

const key = (e: WaitEdge) => `${e.service}#${e.waitId}`;

/**
 * Reads the waits-for graph from every service's lock tables, finds cycles, and breaks each
 * one by failing its youngest saga's wait, when that wait lives in this service. Every service
 * runs one, so every cycle has a service that breaks it, and each write stays in the database
 * of the service that makes it. A cycle must be seen twice in a row (same wait rows) before it
 * is broken: two services' tables are read at slightly different moments, and a phantom cycle
 * made of a released and a new wait must not cost a saga.
 */
export class DeadlockDetector {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private suspects = new Set<string>();

  constructor(private readonly options: DeadlockDetectorOptions) {}

  start(): void {
    const interval = this.options.intervalMs ?? 200;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.sweep()
        .then(() => undefined)
        .catch((error: unknown) =>
          this.options.logger.warn({ err: error }, 'deadlock detection round failed'),
        )
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, interval);
        });
    };
    this.timer = setTimeout(tick, interval);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One round: returns the cycles broken by this service. */
  async sweep(): Promise<WaitCycle[]> {
    const parts = await Promise.all([this.options.local, ...this.options.peers].map((s) => s.read()));
    const cycles = findWaitCycles(parts.flat());
    const seen = new Set<string>();
    const broken: WaitCycle[] = [];
    for (const cycle of cycles) {
      const id = cycle.edges.map(key).sort().join(',');
      seen.add(id);
      if (cycle.victim.service !== this.options.local.service || !this.suspects.has(id)) continue;
      if (await this.options.breakWait(cycle.victim, cycle)) {
        this.options.logger.warn(
          {
            victim: cycle.victim.waiter,
            cycle: cycle.edges.map((e) => `${e.waiter} -> ${e.resource} (${e.service}) -> ${e.holder}`),
          },
          'deadlock broken: the youngest saga of the cycle fails',
        );
        broken.push(cycle);
      }
    }
    this.suspects = seen;
    return broken;
  }
}
