import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { SqlStore } from '../sql/sql-store.js';
import { WakeSignal } from '../util/wake-signal.js';
import {
  RemoteCallRejectedError,
  type RemoteCallAnswer,
  type RemoteCallFunction,
} from './remote-call-definition.js';
import type { RemoteCallRecord, RemoteCallRepository } from './remote-call-repository.js';
import { operationOf, type RemoteOperation } from './remote-call-state.js';
import { BackgroundLoop } from '../util/background-loop.js';

const idOf = (r: RemoteCallRecord) => `${r.type}\u0000${r.key}`;

export type Outcome =
  | { readonly kind: 'done'; readonly answer: RemoteCallAnswer }
  | { readonly kind: 'failed' | 'transient'; readonly error: string };

export interface RemoteCallRunnerOptions {
  readonly store: SqlStore;
  readonly repo: RemoteCallRepository;
  readonly functionOf: (type: string, operation: RemoteOperation) => RemoteCallFunction<unknown> | undefined;
  /** Records an attempt's outcome (the tracker's job: settle, back off, or park). */
  readonly record: (claimed: RemoteCallRecord, outcome: Outcome) => Promise<void>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly concurrency: number;
  readonly callTimeoutMs: number;
  readonly pollMs: number;
}

/**
 * The tracker's loop: finds due intents, claims them, makes their calls with a timeout, and
 * hands each outcome back to be recorded. Sleeps until a commit wakes it or the next is due.
 */
export class RemoteCallRunner {
  private readonly signal = new WakeSignal();
  private readonly inFlight = new Map<string, Promise<void>>();
  /** One controller per call in flight: stopping aborts them all (no listener per call on a shared signal). */
  private readonly calls = new Set<AbortController>();
  private readonly loop = new BackgroundLoop((signal) => this.run(signal));

  constructor(private readonly o: RemoteCallRunnerOptions) {}

  wake(): void {
    this.signal.wake();
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop(() => {
      for (const controller of this.calls) controller.abort(new Error('tracker stopping'));
      this.signal.wake();
    });
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let waitMs = this.o.pollMs;
      try {
        const free = this.o.concurrency - this.inFlight.size;
        if (free > 0) {
          const now = this.o.clock.now();
          const due = (
            await this.o.store.driver.run((exec) => this.o.repo.due(exec, now, free + this.inFlight.size))
          )
            .filter((r) => !this.inFlight.has(idOf(r)))
            .slice(0, free);
          for (const r of await this.claim(due)) {
            const id = idOf(r);
            const p = this.attempt(r)
              .catch((error: unknown) =>
                this.o.logger.error(
                  { err: error, type: r.type, key: r.key },
                  'remote call attempt failed to record',
                ),
              )
              .finally(() => {
                this.inFlight.delete(id);
                this.wake();
              });
            this.inFlight.set(id, p);
          }
          if (this.inFlight.size < this.o.concurrency) {
            const next = await this.o.store.driver.run((exec) => this.o.repo.nextDueAt(exec));
            if (next !== null) waitMs = Math.max(5, Math.min(this.o.pollMs, next - this.o.clock.now()));
          }
        }
      } catch (error) {
        this.o.logger.error({ err: error }, 'looking for due remote calls failed; trying again');
      }
      await this.signal.wait(waitMs, signal);
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
    const now = this.o.clock.now();
    return this.o.store.driver.transaction(async (exec) => {
      const claimed: RemoteCallRecord[] = [];
      for (const r of due) {
        const next = {
          ...r,
          attempts: r.attempts + 1,
          nextAttemptAt: now + this.o.callTimeoutMs * 2,
          version: r.version + 1,
          updatedAt: now,
        };
        if (await this.o.repo.update(exec, next, r.version)) claimed.push(next);
      }
      return claimed;
    });
  }

  /** Makes the call of a claimed intent and records what came back. */
  private async attempt(claimed: RemoteCallRecord): Promise<void> {
    const r = claimed;
    const op = operationOf(r.state);
    const fn = this.o.functionOf(r.type, op);
    let outcome: Outcome;
    if (!fn) {
      outcome = { kind: 'transient', error: `no ${op} function registered for remote call type ${r.type}` };
    } else {
      const controller = new AbortController();
      this.calls.add(controller);
      const timer = setTimeout(
        () => controller.abort(new Error(`call timed out after ${this.o.callTimeoutMs} ms`)),
        this.o.callTimeoutMs,
      );
      const aborted = new Promise<never>((_, reject) =>
        controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), {
          once: true,
        }),
      );
      try {
        const call = {
          type: r.type,
          key: r.key,
          operation: op,
          payload: r.payload,
          remoteId: r.remoteId,
          attempt: claimed.attempts,
          signal: controller.signal,
        };
        const answer = await Promise.race([fn(call), aborted]);
        outcome = { kind: 'done', answer: answer ?? {} };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        outcome =
          error instanceof RemoteCallRejectedError
            ? { kind: 'failed', error: message }
            : { kind: 'transient', error: message };
      } finally {
        clearTimeout(timer);
        this.calls.delete(controller);
        aborted.catch(() => undefined);
      }
    }
    await this.o.record(claimed, outcome);
  }
}
