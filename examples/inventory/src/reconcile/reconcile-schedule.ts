import type { Logger } from '@concord/core';
import type { Reconciler } from './reconciler.js';

/** Runs reconciliation every `intervalMinutes` (the actor in its log is "scheduler"). */
export class ReconcileSchedule {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly reconciler: Reconciler,
    private readonly intervalMinutes: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.intervalMinutes <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      this.running ??= this.reconciler
        .reconcile('scheduler')
        .catch((error: unknown) => this.logger.error({ err: error }, 'scheduled reconciliation failed'))
        .finally(() => (this.running = undefined));
    }, this.intervalMinutes * 60_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
