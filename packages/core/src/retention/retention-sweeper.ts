import { WakeSignal } from '../util/wake-signal.js';
import { defaultLogger } from '../logging.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { BackgroundLoop } from '../util/background-loop.js';

/** One kind of clean-up: deletes what its rules allow and says how many rows of each table went. */
export interface RetentionTask {
  readonly name: string;
  sweep(now: number): Promise<Record<string, number>>;
}

export interface RetentionSweeperOptions {
  readonly tasks: readonly RetentionTask[];
  /** Time between sweeps. Default 10 minutes. */
  readonly intervalMs?: number;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

export interface RetentionReport {
  readonly at: number;
  /** Rows removed per task and table, e.g. `{ store: { inbox: 12 } }`. */
  readonly removed: Record<string, Record<string, number>>;
  /** Tasks that failed this round, with the error text (also logged). */
  readonly failed: Record<string, string>;
}

/**
 * Runs retention tasks on a schedule. A task that fails is logged and tried again next round;
 * it never rejects into the void (an unhandled rejection ends a Node process) and never stops
 * the other tasks or later rounds.
 */
export class RetentionSweeper {
  private readonly intervalMs: number;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly loop = new BackgroundLoop((signal) => this.run(signal));
  private last: RetentionReport | undefined;

  constructor(private readonly options: RetentionSweeperOptions) {
    this.intervalMs = options.intervalMs ?? 600_000;
    this.logger = (options.logger ?? defaultLogger()).child({ component: 'retention-sweeper' });
    this.clock = options.clock ?? systemClock;
  }

  /** Starts sweeping: a first round at once, then every `intervalMs`. */
  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** The last round's report, for status pages. */
  lastReport(): RetentionReport | undefined {
    return this.last;
  }

  /** One round of every task; resolves (never rejects) with what each removed or why it failed. */
  async sweepOnce(): Promise<RetentionReport> {
    const at = this.clock.now();
    const removed: Record<string, Record<string, number>> = {};
    const failed: Record<string, string> = {};
    for (const task of this.options.tasks) {
      try {
        removed[task.name] = await task.sweep(at);
      } catch (error) {
        failed[task.name] = error instanceof Error ? error.message : String(error);
        this.logger.error({ err: error, task: task.name }, 'retention sweep failed; trying again next round');
      }
    }
    const total = Object.values(removed).reduce((n, r) => n + Object.values(r).reduce((a, b) => a + b, 0), 0);
    if (total > 0) this.logger.info({ removed }, 'retention sweep removed rows past their retention');
    this.last = { at, removed, failed };
    return this.last;
  }

  private readonly pause = new WakeSignal();

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.sweepOnce();
      // Real time between rounds, whatever the clock: a test's virtual clock that answers
      // sleep() at once must not turn this loop into a busy one.
      await this.pause.wait(this.intervalMs, signal);
    }
  }
}
