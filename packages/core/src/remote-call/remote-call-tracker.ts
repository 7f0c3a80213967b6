import { backoffDelay, type BackoffPolicy } from '../consumer/backoff.js';
import {
  ConcurrencyConflictError,
  IllegalStateError,
  InvalidArgumentError,
  NotFoundError,
} from '../errors.js';
import { defaultLogger } from '../logging.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Transaction } from '../ports/store.js';
import type { SqlStore } from '../sql/sql-store.js';
import type { RemoteCallAnswer, RemoteCallDefinition } from './remote-call-definition.js';
import {
  newRemoteCallRecord,
  RemoteCallRepository,
  type RemoteCallFilter,
  type RemoteCallHistoryEntry,
  type RemoteCallRecord,
} from './remote-call-repository.js';
import { RemoteCallRunner, type Outcome } from './remote-call-runner.js';
import { isPending, onOutcome, onRequest, type RemoteOperation } from './remote-call-state.js';

export interface RemoteCallTrackerOptions {
  readonly store: SqlStore;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each definition keeps its own payload type
  readonly calls: ReadonlyArray<RemoteCallDefinition<any>>;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Delays between attempts at one request. Default 200 ms doubling to 30 s, half jittered. */
  readonly backoff?: BackoffPolicy;
  /** Attempts before an intent is parked for a person. Default 10. */
  readonly maxAttempts?: number;
  /** Calls in flight at once in this process. Default 16. */
  readonly concurrency?: number;
  /** A call running longer is aborted and counts as a failed attempt; it is also the lease
   * other processes respect before they take over a claimed intent. Default 10 s. */
  readonly callTimeoutMs?: number;
  /** Longest sleep between looks for due intents (commits in this process wake it at once). Default 1 s. */
  readonly pollMs?: number;
}

export interface RemoteCallRequest<P = unknown> {
  readonly type: string;
  readonly key: string;
  readonly operation: RemoteOperation;
  readonly payload: P;
}

/** A person's decision about a parked intent: try again, or settle it by hand with a note. */
export interface RemoteCallResolution {
  readonly as: 'retry' | 'done' | 'failed';
  readonly note: string;
  readonly actor: string;
  readonly remoteId?: string;
}

/**
 * Records the intent of every remote call in the caller's transaction, runs the call after
 * commit with the caller-assigned key, records the outcome, retries with capped backoff,
 * resumes whatever was unfinished when the process died, and parks what keeps failing for a
 * person. See docs/remote-calls.md.
 */
export class RemoteCallTracker {
  private readonly repo: RemoteCallRepository;
  private readonly defs = new Map<string, RemoteCallDefinition<unknown>>();
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly backoff: BackoffPolicy;
  private readonly maxAttempts: number;
  private readonly runner: RemoteCallRunner;

  constructor(private readonly options: RemoteCallTrackerOptions) {
    this.repo = new RemoteCallRepository(options.store.driver.dialect);
    for (const def of options.calls) this.defs.set(def.type, def as RemoteCallDefinition<unknown>);
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? defaultLogger()).child({ component: 'remote-call-tracker' });
    this.backoff = options.backoff ?? { initialMs: 200, maxMs: 30_000, multiplier: 2, jitter: 0.5 };
    this.maxAttempts = options.maxAttempts ?? 10;
    this.runner = new RemoteCallRunner({
      store: options.store,
      repo: this.repo,
      functionOf: (type, op) => this.defs.get(type)?.[op],
      record: (claimed, outcome) => this.record(claimed, outcome),
      clock: this.clock,
      logger: this.logger,
      concurrency: options.concurrency ?? 16,
      callTimeoutMs: options.callTimeoutMs ?? 10_000,
      pollMs: options.pollMs ?? 1_000,
    });
  }

  /**
   * Records the intent in the caller's transaction (before any call is made); the call runs
   * after commit. Asking again for what is already asked changes nothing.
   */
  async request<P>(tx: Transaction<unknown>, req: RemoteCallRequest<P>): Promise<RemoteCallRecord<P>> {
    const def = this.definition(req.type);
    if (!def[req.operation])
      throw new InvalidArgumentError(`remote call type ${req.type} has no ${req.operation} function`);
    const now = this.clock.now();
    const current = await this.repo.find(tx.sql, req.type, req.key, true);
    const step = onRequest(current?.state, req.operation, `${req.type}/${req.key}`);
    if (step.kind === 'unchanged') return current as RemoteCallRecord<P>;
    const base: RemoteCallRecord = current ?? newRemoteCallRecord(req.type, req.key, step.state, null, now, 0);
    const next: RemoteCallRecord = {
      ...base,
      state: step.state,
      payload: req.payload,
      attempts: 0,
      nextAttemptAt: step.kind === 'call' ? now : null,
      parkedAt: null,
      lastError: null,
      version: base.version + 1,
      requestedAt: now,
      updatedAt: now,
    };
    if (current) {
      if (!(await this.repo.update(tx.sql, next, current.version)))
        throw new ConcurrencyConflictError(`remote call ${req.type}/${req.key} changed concurrently`);
    } else {
      await this.repo.insert(tx.sql, next);
    }
    await this.repo.addHistory(
      tx.sql,
      next,
      now,
      step.kind === 'call' ? 'requested' : 'settled without a call',
      { operation: req.operation },
    );
    if (step.kind === 'settled') await def.onSettled?.(tx, next);
    else tx.afterCommit(() => this.runner.wake());
    return next as RemoteCallRecord<P>;
  }

  /** The intent of `key` as this transaction sees it. */
  find<P = unknown>(
    tx: Transaction<unknown>,
    type: string,
    key: string,
  ): Promise<RemoteCallRecord<P> | undefined> {
    return this.repo.find(tx.sql, type, key, true) as Promise<RemoteCallRecord<P> | undefined>;
  }

  /** Replaces the payload of a pending intent (where its answer should go, say) without asking again. */
  async replacePayload<P>(
    tx: Transaction<unknown>,
    current: RemoteCallRecord<P>,
    payload: P,
  ): Promise<RemoteCallRecord<P>> {
    const next = { ...current, payload, version: current.version + 1, updatedAt: this.clock.now() };
    if (!(await this.repo.update(tx.sql, next, current.version)))
      throw new ConcurrencyConflictError(`remote call ${current.type}/${current.key} changed concurrently`);
    return next;
  }

  /**
   * Records that `key` must never be created (a compensation arrived before its action): the
   * intent starts as `deleted`, so a late create is refused instead of leaking an object.
   */
  async block(tx: Transaction<unknown>, type: string, key: string, payload: unknown): Promise<void> {
    const now = this.clock.now();
    const r = newRemoteCallRecord(type, key, 'deleted', payload, now, 1);
    await this.repo.insert(tx.sql, r);
    await this.repo.addHistory(tx.sql, r, now, 'blocked before any create', {});
  }

  /** Runs due calls from now on: first every intent left unfinished by the last run. */
  start(): void {
    this.runner.start();
  }

  /** Stops taking new work, aborts the calls in flight and waits for their outcome to be recorded. */
  stop(): Promise<void> {
    return this.runner.stop();
  }

  get(type: string, key: string): Promise<RemoteCallRecord | undefined> {
    return this.options.store.driver.run((exec) => this.repo.find(exec, type, key));
  }

  history(type: string, key: string): Promise<RemoteCallHistoryEntry[]> {
    return this.options.store.driver.run((exec) => this.repo.history(exec, type, key));
  }

  /** Intents by filter; `{ parked: true }` lists the tasks waiting for a person. */
  list(filter: RemoteCallFilter = {}): Promise<RemoteCallRecord[]> {
    return this.options.store.driver.run((exec) => this.repo.list(exec, filter));
  }

  /** A person's answer to a parked intent: retry it, or settle it by hand; recorded with actor and note. */
  async resolve(type: string, key: string, resolution: RemoteCallResolution): Promise<RemoteCallRecord> {
    if (!resolution.note?.trim()) throw new InvalidArgumentError('a resolution needs a note saying why');
    return this.options.store.transaction(async (tx) => {
      const current = await this.repo.find(tx.sql, type, key, true);
      if (!current) throw new NotFoundError('remote call', `${type}/${key}`);
      if (current.parkedAt === null)
        throw new IllegalStateError(
          `remote call ${type}/${key} is ${current.state} and not waiting for a person`,
        );
      const detail = { note: resolution.note, as: resolution.as };
      if (resolution.as !== 'retry') {
        const answer = { remoteId: resolution.remoteId ?? current.remoteId };
        return this.settle(
          tx,
          current,
          resolution.as === 'done' ? { kind: 'done', answer } : { kind: 'failed', error: resolution.note },
          'resolved by a person',
          detail,
          resolution.actor,
        );
      }
      const now = this.clock.now();
      const next = {
        ...current,
        attempts: 0,
        nextAttemptAt: now,
        parkedAt: null,
        version: current.version + 1,
        updatedAt: now,
      };
      if (!(await this.repo.update(tx.sql, next, current.version)))
        throw new ConcurrencyConflictError(`remote call ${type}/${key} changed concurrently`);
      await this.repo.addHistory(tx.sql, next, now, 'retried by a person', detail, resolution.actor);
      tx.afterCommit(() => this.runner.wake());
      return next;
    });
  }

  /**
   * Settles a pending intent from evidence found elsewhere (consolidation saw the remote
   * object, or saw it gone). Returns false when the intent was no longer pending.
   */
  async settleFromEvidence(
    type: string,
    key: string,
    outcome: 'done' | 'failed',
    answer: RemoteCallAnswer,
    reason: string,
  ): Promise<boolean> {
    return this.options.store.transaction(async (tx) => {
      const current = await this.repo.find(tx.sql, type, key, true);
      if (!current || !isPending(current.state)) return false;
      const o: Outcome = outcome === 'done' ? { kind: 'done', answer } : { kind: 'failed', error: reason };
      await this.settle(tx, current, o, 'settled by consolidation', { reason });
      return true;
    });
  }

  private definition(type: string): RemoteCallDefinition<unknown> {
    const def = this.defs.get(type);
    if (!def) throw new InvalidArgumentError(`unknown remote call type ${type}`);
    return def;
  }

  private async settle(
    tx: Transaction<unknown>,
    current: RemoteCallRecord,
    outcome: Outcome,
    event: string,
    detail: Record<string, unknown>,
    actor: string | null = null,
  ): Promise<RemoteCallRecord> {
    const now = this.clock.now();
    const done = outcome.kind === 'done';
    const next: RemoteCallRecord = {
      ...current,
      state: onOutcome(current.state, done ? 'done' : 'failed'),
      remoteId: (done ? outcome.answer.remoteId : undefined) ?? current.remoteId,
      result: done && outcome.answer.result !== undefined ? outcome.answer.result : current.result,
      nextAttemptAt: null,
      parkedAt: null,
      lastError: done ? null : outcome.error,
      version: current.version + 1,
      updatedAt: now,
    };
    if (!(await this.repo.update(tx.sql, next, current.version)))
      throw new ConcurrencyConflictError(`remote call ${current.type}/${current.key} changed concurrently`);
    await this.repo.addHistory(
      tx.sql,
      next,
      now,
      event,
      done ? { ...detail, remoteId: next.remoteId } : { ...detail, error: outcome.error },
      actor,
    );
    await this.definition(current.type).onSettled?.(tx, next);
    return next;
  }

  /** Records what a call's attempt came to: settled, retried later, or parked. */
  private async record(claimed: RemoteCallRecord, outcome: Outcome): Promise<void> {
    await this.options.store.transaction(async (tx) => {
      const current = await this.repo.find(tx.sql, claimed.type, claimed.key, true);
      if (!current || current.version !== claimed.version) {
        // The intent moved on while the call ran (a delete was asked, a person resolved it):
        // keep what the answer taught us, nothing else.
        if (outcome.kind === 'done' && outcome.answer.remoteId)
          await this.repo.fillRemoteId(tx.sql, claimed.type, claimed.key, outcome.answer.remoteId);
        return;
      }
      if (outcome.kind !== 'transient') {
        await this.settle(tx, current, outcome, outcome.kind === 'done' ? 'answered' : 'refused', {
          attempt: current.attempts,
        });
        return;
      }
      const now = this.clock.now();
      const park = current.attempts >= this.maxAttempts;
      const next: RemoteCallRecord = {
        ...current,
        nextAttemptAt: park ? null : now + backoffDelay(this.backoff, current.attempts),
        parkedAt: park ? now : null,
        lastError: outcome.error,
        version: current.version + 1,
        updatedAt: now,
      };
      await this.repo.update(tx.sql, next, current.version);
      await this.repo.addHistory(tx.sql, next, now, park ? 'parked for a person' : 'attempt failed', {
        attempt: current.attempts,
        error: outcome.error,
      });
      if (park)
        this.logger.warn(
          { type: current.type, key: current.key, attempts: current.attempts, error: outcome.error },
          'remote call parked for a person',
        );
    });
  }
}
