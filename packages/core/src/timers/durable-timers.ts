import { backoffDelay, defaultBackoff, type BackoffPolicy } from '../consumer/backoff.js';
import { InvalidArgumentError } from '../errors.js';
import { newId } from '../ids.js';
import { defaultLogger } from '../logging.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Transaction } from '../ports/store.js';
import { WakeSignal } from '../util/wake-signal.js';
import { TimerRepository, type ClaimedTimer, type NewTimer, type TimerListFilter, type TimerView } from './timer-repository.js';
import type { SagaStore } from '../saga/saga-store.js';

/** What a handler learns about the timer it fires. */
export interface FiredTimer<P = unknown> {
  readonly id: string;
  readonly kind: string;
  readonly payload: P;
  readonly dueAt: number;
  /** 1 on the first try, more after handler failures. */
  readonly attempt: number;
}

/**
 * Runs in the transaction that marks the timer fired: its effects and the FIRED mark commit
 * together or not at all. Throwing rolls both back and the timer is tried again later.
 */
export type TimerHandler<H, P = unknown> = (tx: Transaction<H>, timer: FiredTimer<P>) => Promise<void> | void;

export interface DurableTimersOptions<H> {
  readonly store: SagaStore<H>;
  /** This instance's name in leases (`owner`); default a fresh id per process start. */
  readonly instanceId?: string;
  /** How long a claim holds a timer before another instance may take it over. Default 30 s. */
  readonly leaseMs?: number;
  /** Longest sleep between looks for due timers scheduled by other processes. Default 500 ms. */
  readonly pollIntervalMs?: number;
  /** Timers claimed per round. Default 100. */
  readonly batchSize?: number;
  /** Transactions firing one claimed batch at once (each fires its share in savepoints). Default 4. */
  readonly concurrency?: number;
  /** Handler attempts before a timer is FAILED. Default 10. */
  readonly maxAttempts?: number;
  readonly backoff?: BackoffPolicy;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface TimerRoundStats {
  readonly claimed: number;
  readonly fired: number;
  /** Claims that lost to a newer claim or a cancel (their fencing token was stale). */
  readonly fenced: number;
  readonly failed: number;
}

/**
 * Durable timers in the service's own database. A timer is scheduled in the caller's
 * transaction (so it exists exactly when the business change does), fires exactly once across
 * any number of instances, and survives crashes: instances lease due timers, and a fire commits
 * only with the fencing token of the latest lease, so a paused or late instance whose lease was
 * taken over cannot fire it a second time.
 *
 * Each runtime claims only the kinds it has handlers for, so several modules (sagas,
 * reservations, the service's own code) can run their own runtimes on one store.
 */
export class DurableTimers<H = unknown> {
  readonly instanceId: string;
  private readonly repository: TimerRepository;
  private readonly handlers = new Map<string, TimerHandler<H>>();
  private readonly wakeSignal = new WakeSignal();
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly leaseMs: number;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly backoff: BackoffPolicy;
  private loop: Promise<void> | undefined;
  private stopping: AbortController | undefined;

  constructor(private readonly options: DurableTimersOptions<H>) {
    this.instanceId = options.instanceId ?? newId();
    this.repository = new TimerRepository(options.store.sqlDialect);
    this.logger = (options.logger ?? defaultLogger()).child({ component: 'durable-timers', instance: this.instanceId });
    this.clock = options.clock ?? systemClock;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.batchSize = options.batchSize ?? 100;
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.maxAttempts = options.maxAttempts ?? 10;
    this.backoff = options.backoff ?? defaultBackoff;
  }

  /** Registers the handler of one kind of timer; this runtime fires only kinds it handles. */
  handle<P = unknown>(kind: string, handler: TimerHandler<H, P>): this {
    if (!kind) throw new InvalidArgumentError('timer kind must not be empty');
    if (this.handlers.has(kind)) throw new InvalidArgumentError(`timer kind ${kind} already has a handler`);
    this.handlers.set(kind, handler as TimerHandler<H>);
    return this;
  }

  /**
   * Schedules a timer in `tx` (any store transaction). Idempotent by id: true when this call
   * created it, false when a timer with that id already existed (whatever its state).
   */
  async schedule(tx: Transaction<unknown>, timer: NewTimer): Promise<boolean> {
    if (!timer.id) throw new InvalidArgumentError('timer id must not be empty');
    if (!timer.kind) throw new InvalidArgumentError('timer kind must not be empty');
    if (!Number.isFinite(timer.at)) throw new InvalidArgumentError(`timer ${timer.id}: at must be a time in ms, got ${timer.at}`);
    const created = await this.repository.insert(tx.sql, timer, this.clock.now());
    if (created && this.handlers.has(timer.kind)) tx.afterCommit(() => this.wakeSignal.wake());
    return created;
  }

  /** Cancels a scheduled timer in `tx`; false when it had already fired, was cancelled, or never existed. */
  cancel(tx: Transaction<unknown>, id: string): Promise<boolean> {
    return this.repository.cancel(tx.sql, id);
  }

  /**
   * Deletes a scheduled timer without a trace, so its id can be scheduled afresh: for undoing
   * a `schedule` made earlier in the same transaction. Use `cancel` for anything else.
   */
  unschedule(tx: Transaction<unknown>, id: string): Promise<boolean> {
    return this.repository.remove(tx.sql, id);
  }

  get(id: string): Promise<TimerView | undefined> {
    return this.options.store.read((exec) => this.repository.get(exec, id));
  }

  /** For the operator API (`concord timers list`): timers by due time. */
  list(filter: TimerListFilter = {}): Promise<TimerView[]> {
    return this.options.store.read((exec) => this.repository.list(exec, filter));
  }

  countByStatus(): Promise<Record<string, number>> {
    return this.options.store.read((exec) => this.repository.countByStatus(exec));
  }

  /** Deletes fired and cancelled timers older than `olderThanMs`. */
  purge(olderThanMs: number): Promise<number> {
    return this.options.store.read((exec) => this.repository.purge(exec, this.clock.now() - olderThanMs));
  }

  start(): void {
    if (this.loop) return;
    this.stopping = new AbortController();
    this.loop = this.run(this.stopping.signal);
  }

  /** True between start() and stop(). */
  isRunning(): boolean {
    return this.loop !== undefined && this.stopping?.signal.aborted === false;
  }

  async stop(): Promise<void> {
    this.stopping?.abort();
    await this.loop;
    this.loop = undefined;
  }

  /**
   * Takes a lease on a batch of due timers of this runtime's kinds, each with its fencing token.
   * A read comes first: a round with nothing claimable opens no write transaction, so an idle
   * loop commits nothing (no write load, and no commit a crash-point explorer would count).
   */
  async claimDue(): Promise<ClaimedTimer[]> {
    const kinds = [...this.handlers.keys()];
    if (kinds.length === 0) return [];
    // Nothing claimable: no write transaction (an idle loop commits nothing).
    const next = await this.options.store.read((exec) => this.repository.nextDue(exec, kinds));
    if (next === null || next > this.clock.now()) return [];
    return this.options.store.transaction((tx) =>
      this.repository.claim(tx.sql, kinds, this.instanceId, this.clock.now(), this.leaseMs, this.batchSize),
    );
  }

  /**
   * Claims and fires one batch of due timers. The loop calls it; tests call it to step. The
   * batch is split among `concurrency` transactions, each firing its share in savepoints (one
   * commit for many timers), so a failing handler undoes only its own timer.
   */
  async fireDue(): Promise<TimerRoundStats> {
    const claimed = await this.claimDue();
    const stats = { claimed: claimed.length, fired: 0, fenced: 0, failed: 0 };
    const shares = Math.min(this.concurrency, claimed.length);
    await Promise.all(
      Array.from({ length: shares }, async (_, i) => {
        const share = claimed.filter((_t, j) => j % shares === i);
        const outcome = await this.fireTogether(share);
        stats.fired += outcome.fired;
        stats.fenced += outcome.fenced;
        stats.failed += outcome.failed;
      }),
    );
    return stats;
  }

  /** Fires `timers` in one transaction, each in a savepoint; falls back to one transaction each if that one fails. */
  private async fireTogether(timers: readonly ClaimedTimer[]): Promise<{ fired: number; fenced: number; failed: number }> {
    if (timers.length === 1) {
      const outcome = { fired: 0, fenced: 0, failed: 0 };
      outcome[await this.fire(timers[0]!)]++;
      return outcome;
    }
    let failedTimers: Array<{ timer: ClaimedTimer; error: unknown }> = [];
    let fired = 0;
    let fenced = 0;
    try {
      await this.options.store.transaction(async (tx) => {
        // The driver may run this again (a serialization failure): count from zero each time.
        failedTimers = [];
        fired = 0;
        fenced = 0;
        for (const timer of timers) {
          try {
            const ok = await tx.savepoint(
              async (sp) => {
                if (!(await this.repository.markFired(sp.sql, timer, this.clock.now()))) return false;
                await this.handlers.get(timer.kind)!(sp, this.firedTimer(timer));
                return true;
              },
              { key: `timer:${timer.id}` },
            );
            if (ok) fired++;
            else fenced++;
          } catch (error) {
            failedTimers.push({ timer, error });
          }
        }
      });
    } catch (error) {
      this.logger.warn({ err: error, timers: timers.length }, 'batch fire failed; firing one by one');
      const each = { fired: 0, fenced: 0, failed: 0 };
      for (const timer of timers) each[await this.fire(timer)]++;
      return each;
    }
    for (const { timer, error } of failedTimers) await this.recordFailure(timer, error);
    return { fired, fenced, failed: failedTimers.length };
  }

  private firedTimer(timer: ClaimedTimer): FiredTimer {
    return { id: timer.id, kind: timer.kind, payload: timer.payload, dueAt: timer.dueAt, attempt: timer.attempts + 1 };
  }

  /** Fires one claimed timer: FIRED mark (checked against the fencing token) + handler, one transaction. */
  async fire(timer: ClaimedTimer): Promise<'fired' | 'fenced' | 'failed'> {
    const handler = this.handlers.get(timer.kind)!;
    try {
      const fired = await this.options.store.transaction(async (tx) => {
        if (!(await this.repository.markFired(tx.sql, timer, this.clock.now()))) return false;
        await handler(tx, this.firedTimer(timer));
        return true;
      });
      return fired ? 'fired' : 'fenced';
    } catch (error) {
      await this.recordFailure(timer, error);
      return 'failed';
    }
  }

  /** A failed fire: the lease goes and the timer is due again after a backoff, or FAILED past the attempts. */
  private async recordFailure(timer: ClaimedTimer, error: unknown): Promise<void> {
    const attempts = timer.attempts + 1;
    const giveUp = attempts >= this.maxAttempts;
    const message = error instanceof Error ? error.message : String(error);
    this.logger[giveUp ? 'error' : 'warn']({ err: error, timerId: timer.id, kind: timer.kind, attempts }, giveUp ? 'timer FAILED' : 'timer handler failed, will retry');
    await this.options.store
      .read((exec) => this.repository.markFailed(exec, timer, message, this.clock.now() + backoffDelay(this.backoff, attempts), giveUp))
      .catch((e: unknown) => this.logger.warn({ err: e, timerId: timer.id }, 'could not record a timer failure; its lease will run out'));
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let full = false;
      try {
        const stats = await this.fireDue();
        full = stats.claimed === this.batchSize;
      } catch (error) {
        if (!signal.aborted) this.logger.warn({ err: error }, 'timer round failed');
      }
      if (full) continue;
      let wait = this.pollIntervalMs;
      try {
        const next = await this.options.store.read((exec) => this.repository.nextDue(exec, [...this.handlers.keys()]));
        if (next !== null) wait = Math.max(0, Math.min(wait, next - this.clock.now()));
      } catch (error) {
        if (!signal.aborted) this.logger.warn({ err: error }, 'timer look-ahead failed');
      }
      // A due timer held by another instance's live lease shows as "due now": wait at least a
      // little so the loop does not spin until that lease ends.
      await this.wakeSignal.wait(Math.max(wait, 10), signal);
    }
  }
}
