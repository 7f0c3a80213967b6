import { backoffDelay, type BackoffPolicy } from '../consumer/backoff.js';
import { ConcurrencyConflictError, IllegalStateError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { defaultLogger } from '../logging.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Transaction } from '../ports/store.js';
import type { SqlStore } from '../sql/sql-store.js';
import { WakeSignal } from '../util/wake-signal.js';
import { RemoteCallRejectedError, type RemoteCallAnswer, type RemoteCallDefinition } from './remote-call-definition.js';
import {
  RemoteCallRepository,
  type RemoteCallFilter,
  type RemoteCallHistoryEntry,
  type RemoteCallRecord,
} from './remote-call-repository.js';
import { isPending, onOutcome, onRequest, operationOf, type RemoteOperation } from './remote-call-state.js';

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

const idOf = (r: RemoteCallRecord) => `${r.type}\u0000${r.key}`;

type Outcome =
  | { readonly kind: 'done'; readonly answer: RemoteCallAnswer }
  | { readonly kind: 'failed' | 'transient'; readonly error: string };

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
  private readonly concurrency: number;
  private readonly callTimeoutMs: number;
  private readonly pollMs: number;
  private readonly wake = new WakeSignal();
  private readonly inFlight = new Map<string, Promise<void>>();
  /** One controller per call in flight: stopping aborts them all (no listener per call on a shared signal). */
  private readonly calls = new Set<AbortController>();
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: RemoteCallTrackerOptions) {
    this.repo = new RemoteCallRepository(options.store.driver.dialect);
    for (const def of options.calls) this.defs.set(def.type, def as RemoteCallDefinition<unknown>);
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? defaultLogger()).child({ component: 'remote-call-tracker' });
    this.backoff = options.backoff ?? { initialMs: 200, maxMs: 30_000, multiplier: 2, jitter: 0.5 };
    this.maxAttempts = options.maxAttempts ?? 10;
    this.concurrency = options.concurrency ?? 16;
    this.callTimeoutMs = options.callTimeoutMs ?? 10_000;
    this.pollMs = options.pollMs ?? 1_000;
  }

  /**
   * Records the intent in the caller's transaction (before any call is made); the call runs
   * after commit. Asking again for what is already asked changes nothing.
   */
  async request<P>(tx: Transaction<unknown>, req: RemoteCallRequest<P>): Promise<RemoteCallRecord<P>> {
    const def = this.definition(req.type);
    if (!def[req.operation]) throw new InvalidArgumentError(`remote call type ${req.type} has no ${req.operation} function`);
    const now = this.clock.now();
    const current = await this.repo.find(tx.sql, req.type, req.key, true);
    const step = onRequest(current?.state, req.operation, `${req.type}/${req.key}`);
    if (step.kind === 'unchanged') return current as RemoteCallRecord<P>;
    const base: RemoteCallRecord =
      current ??
      { type: req.type, key: req.key, state: step.state, payload: null, remoteId: null, result: null, attempts: 0, nextAttemptAt: null, parkedAt: null, lastError: null, version: 0, requestedAt: now, createdAt: now, updatedAt: now };
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
      if (!(await this.repo.update(tx.sql, next, current.version))) throw new ConcurrencyConflictError(`remote call ${req.type}/${req.key} changed concurrently`);
    } else {
      await this.repo.insert(tx.sql, next);
    }
    await this.repo.addHistory(tx.sql, next, now, step.kind === 'call' ? 'requested' : 'settled without a call', { operation: req.operation });
    if (step.kind === 'settled') await def.onSettled?.(tx, next);
    else tx.afterCommit(() => this.wake.wake());
    return next as RemoteCallRecord<P>;
  }

  /** The intent of `key` as this transaction sees it. */
  find<P = unknown>(tx: Transaction<unknown>, type: string, key: string): Promise<RemoteCallRecord<P> | undefined> {
    return this.repo.find(tx.sql, type, key, true) as Promise<RemoteCallRecord<P> | undefined>;
  }

  /** Replaces the payload of a pending intent (where its answer should go, say) without asking again. */
  async replacePayload<P>(tx: Transaction<unknown>, current: RemoteCallRecord<P>, payload: P): Promise<RemoteCallRecord<P>> {
    const next = { ...current, payload, version: current.version + 1, updatedAt: this.clock.now() };
    if (!(await this.repo.update(tx.sql, next, current.version))) throw new ConcurrencyConflictError(`remote call ${current.type}/${current.key} changed concurrently`);
    return next;
  }

  /**
   * Records that `key` must never be created (a compensation arrived before its action): the
   * intent starts as `deleted`, so a late create is refused instead of leaking an object.
   */
  async block(tx: Transaction<unknown>, type: string, key: string, payload: unknown): Promise<void> {
    const now = this.clock.now();
    const r: RemoteCallRecord = { type, key, state: 'deleted', payload, remoteId: null, result: null, attempts: 0, nextAttemptAt: null, parkedAt: null, lastError: null, version: 1, requestedAt: now, createdAt: now, updatedAt: now };
    await this.repo.insert(tx.sql, r);
    await this.repo.addHistory(tx.sql, r, now, 'blocked before any create', {});
  }

  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal);
  }

  /** Stops taking new work and waits for the calls in flight to record their outcome. */
  async stop(): Promise<void> {
    this.abort?.abort();
    for (const controller of this.calls) controller.abort(new Error('tracker stopping'));
    this.wake.wake();
    await this.loop;
    this.loop = undefined;
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
      if (current.parkedAt === null) throw new IllegalStateError(`remote call ${type}/${key} is ${current.state} and not waiting for a person`);
      const detail = { note: resolution.note, as: resolution.as };
      if (resolution.as !== 'retry') {
        const answer = { remoteId: resolution.remoteId ?? current.remoteId };
        return this.settle(tx, current, resolution.as === 'done' ? { kind: 'done', answer } : { kind: 'failed', error: resolution.note }, 'resolved by a person', detail, resolution.actor);
      }
      const now = this.clock.now();
      const next = { ...current, attempts: 0, nextAttemptAt: now, parkedAt: null, version: current.version + 1, updatedAt: now };
      if (!(await this.repo.update(tx.sql, next, current.version))) throw new ConcurrencyConflictError(`remote call ${type}/${key} changed concurrently`);
      await this.repo.addHistory(tx.sql, next, now, 'retried by a person', detail, resolution.actor);
      tx.afterCommit(() => this.wake.wake());
      return next;
    });
  }

  /**
   * Settles a pending intent from evidence found elsewhere (consolidation saw the remote
   * object, or saw it gone). Returns false when the intent was no longer pending.
   */
  async settleFromEvidence(type: string, key: string, outcome: 'done' | 'failed', answer: RemoteCallAnswer, reason: string): Promise<boolean> {
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

  private async settle(tx: Transaction<unknown>, current: RemoteCallRecord, outcome: Outcome, event: string, detail: Record<string, unknown>, actor: string | null = null): Promise<RemoteCallRecord> {
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
    if (!(await this.repo.update(tx.sql, next, current.version))) throw new ConcurrencyConflictError(`remote call ${current.type}/${current.key} changed concurrently`);
    await this.repo.addHistory(tx.sql, next, now, event, done ? { ...detail, remoteId: next.remoteId } : { ...detail, error: outcome.error }, actor);
    await this.definition(current.type).onSettled?.(tx, next);
    return next;
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let waitMs = this.pollMs;
      try {
        const free = this.concurrency - this.inFlight.size;
        if (free > 0) {
          const now = this.clock.now();
          const due = (await this.options.store.driver.run((exec) => this.repo.due(exec, now, free + this.inFlight.size)))
            .filter((r) => !this.inFlight.has(idOf(r)))
            .slice(0, free);
          for (const r of await this.claim(due)) {
            const id = idOf(r);
            const p = this.attempt(r)
              .catch((error: unknown) => this.logger.error({ err: error, type: r.type, key: r.key }, 'remote call attempt failed to record'))
              .finally(() => {
                this.inFlight.delete(id);
                this.wake.wake();
              });
            this.inFlight.set(id, p);
          }
          if (this.inFlight.size < this.concurrency) {
            const next = await this.options.store.driver.run((exec) => this.repo.nextDueAt(exec));
            if (next !== null) waitMs = Math.max(5, Math.min(this.pollMs, next - this.clock.now()));
          }
        }
      } catch (error) {
        this.logger.error({ err: error }, 'looking for due remote calls failed; trying again');
      }
      await this.wake.wait(waitMs, signal);
    }
    await Promise.allSettled(this.inFlight.values());
  }

  /**
   * Claims due intents in one transaction (one commit for the batch): an optimistic version
   * bump each, and a lease, since another process skips an intent until its call could have
   * timed out. Returns the claimed records; an intent someone else changed first is left out.
   */
  private async claim(due: readonly RemoteCallRecord[]): Promise<RemoteCallRecord[]> {
    if (due.length === 0) return [];
    const now = this.clock.now();
    return this.options.store.driver.transaction(async (exec) => {
      const claimed: RemoteCallRecord[] = [];
      for (const r of due) {
        const next = { ...r, attempts: r.attempts + 1, nextAttemptAt: now + this.callTimeoutMs * 2, version: r.version + 1, updatedAt: now };
        if (await this.repo.update(exec, next, r.version)) claimed.push(next);
      }
      return claimed;
    });
  }

  /** Makes the call of a claimed intent and records what came back. */
  private async attempt(claimed: RemoteCallRecord): Promise<void> {
    const r = claimed;
    const op = operationOf(r.state);
    const fn = this.defs.get(r.type)?.[op];
    let outcome: Outcome;
    if (!fn) {
      outcome = { kind: 'transient', error: `no ${op} function registered for remote call type ${r.type}` };
    } else {
      const controller = new AbortController();
      this.calls.add(controller);
      const timer = setTimeout(() => controller.abort(new Error(`call timed out after ${this.callTimeoutMs} ms`)), this.callTimeoutMs);
      const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), { once: true }));
      try {
        const call = { type: r.type, key: r.key, operation: op, payload: r.payload, remoteId: r.remoteId, attempt: claimed.attempts, signal: controller.signal };
        const answer = await Promise.race([fn(call), aborted]);
        outcome = { kind: 'done', answer: answer ?? {} };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        outcome = error instanceof RemoteCallRejectedError ? { kind: 'failed', error: message } : { kind: 'transient', error: message };
      } finally {
        clearTimeout(timer);
        this.calls.delete(controller);
        aborted.catch(() => undefined);
      }
    }
    await this.record(claimed, outcome);
  }

  private async record(claimed: RemoteCallRecord, outcome: Outcome): Promise<void> {
    await this.options.store.transaction(async (tx) => {
      const current = await this.repo.find(tx.sql, claimed.type, claimed.key, true);
      if (!current || current.version !== claimed.version) {
        // The intent moved on while the call ran (a delete was asked, a person resolved it):
        // keep what the answer taught us, nothing else.
        if (outcome.kind === 'done' && outcome.answer.remoteId) await this.repo.fillRemoteId(tx.sql, claimed.type, claimed.key, outcome.answer.remoteId);
        return;
      }
      if (outcome.kind !== 'transient') {
        await this.settle(tx, current, outcome, outcome.kind === 'done' ? 'answered' : 'refused', { attempt: current.attempts });
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
      await this.repo.addHistory(tx.sql, next, now, park ? 'parked for a person' : 'attempt failed', { attempt: current.attempts, error: outcome.error });
      if (park) this.logger.warn({ type: current.type, key: current.key, attempts: current.attempts, error: outcome.error }, 'remote call parked for a person');
    });
  }
}
