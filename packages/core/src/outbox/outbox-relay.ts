import { ClosedError, ConcordErrorCode, isConcordError, type MessageRejectedError } from '../errors.js';
import { backoffDelay, defaultBackoff } from '../consumer/backoff.js';
import { defaultLogger } from '../logging.js';
import type { Broker } from '../ports/broker.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { noInstrumentation, type Instrumentation } from '../ports/instrumentation.js';
import type { OutboxLag, Store } from '../ports/store.js';
import { WakeSignal } from '../util/wake-signal.js';
import type { Relay } from './relay.js';

export interface OutboxRelayOptions {
  readonly store: Store;
  readonly broker: Broker;
  /** Rows read and published per round. Default 500. */
  readonly batchSize?: number;
  /**
   * Longest sleep between rounds when nothing woke the relay. Commits in this process wake it
   * at once, as do notifications where the store has them; the poll catches other writers.
   */
  readonly pollIntervalMs?: number;
  /** Sent rows are kept this long for inspection, then deleted. Default 1 hour. */
  readonly retainSentMs?: number;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Told about each published batch and each failed round (metrics, tracing). */
  readonly instrumentation?: Instrumentation;
}

export interface OutboxRelayStats {
  readonly published: number;
  readonly rounds: number;
  readonly failures: number;
  /** Messages the broker refused for good, moved to `store.parkedOutbox`. */
  readonly parked: number;
}

/**
 * Moves committed outbox rows to the broker. A row is marked sent only after the broker
 * accepted it, so a crash at any point repeats a publish, never skips one. Rows are read in
 * commit order and the broker keeps array order per partition key, so per-key order holds.
 */
export class OutboxRelay implements Relay {
  private readonly wakeSignal = new WakeSignal();
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  private stats = { published: 0, rounds: 0, failures: 0, parked: 0 };
  private lastPurge = 0;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly retainSentMs: number;
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.retainSentMs = options.retainSentMs ?? 3_600_000;
    this.logger = (options.logger ?? defaultLogger()).child({ component: 'outbox-relay' });
    this.clock = options.clock ?? systemClock;
  }

  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    this.unsubscribe = this.options.store.outbox.onCommitted(() => this.wakeSignal.wake());
    this.loop = this.run(this.abort.signal);
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    this.unsubscribe?.();
    await this.loop;
    this.loop = undefined;
  }

  /**
   * Publishes one batch; returns how many messages went out. A message the broker refuses for
   * good (MessageRejectedError) is parked with the reason and the batch is tried again without
   * it: one bad message must not stop the relay for ever.
   */
  async publishBatch(): Promise<number> {
    const { store, broker } = this.options;
    for (;;) {
      const records = await store.outbox.fetchUnsent(this.batchSize);
      if (records.length === 0) return 0;
      const started = Date.now();
      const messages = records.map((r) => r.envelope);
      try {
        await broker.publish(messages);
      } catch (error) {
        if (!isConcordError(error, ConcordErrorCode.MESSAGE_REJECTED)) throw error;
        const rejected = records.find((r) => r.envelope.id === (error as MessageRejectedError).messageId);
        if (!rejected) throw error;
        await store.outbox.park(rejected.position, error.message);
        this.stats.parked++;
        this.logger.error(
          { err: error, messageId: rejected.envelope.id, position: rejected.position },
          'broker refuses an outbox message: parked; the relay goes on without it',
        );
        continue;
      }
      await store.outbox.markSent(records.map((r) => r.position));
      this.stats.published += records.length;
      (this.options.instrumentation ?? noInstrumentation).relayPublished?.({ messages, durationMs: Date.now() - started });
      return records.length;
    }
  }

  /** Publishes until the outbox is empty. */
  async drain(): Promise<number> {
    let total = 0;
    for (let n = await this.publishBatch(); n > 0; n = await this.publishBatch()) total += n;
    return total;
  }

  lag(): Promise<OutboxLag> {
    return this.options.store.outbox.lag();
  }

  isRunning(): boolean {
    return this.loop !== undefined;
  }

  getStats(): OutboxRelayStats {
    return { ...this.stats };
  }

  private async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        this.stats.rounds++;
        const n = await this.publishBatch();
        failures = 0;
        await this.purgeSentNowAndThen();
        if (n < this.batchSize) await this.wakeSignal.wait(this.pollIntervalMs, signal);
      } catch (error) {
        if (error instanceof ClosedError && signal.aborted) return;
        failures++;
        this.stats.failures++;
        this.options.instrumentation?.relayFailed?.(error);
        this.logger.warn({ err: error, failures }, 'outbox relay round failed; retrying');
        await this.clock.sleep(backoffDelay(defaultBackoff, failures), signal);
      }
    }
  }

  private async purgeSentNowAndThen(): Promise<void> {
    const now = this.clock.now();
    if (now - this.lastPurge < 60_000) return;
    this.lastPurge = now;
    const purged = await this.options.store.outbox.purgeSent(this.retainSentMs);
    if (purged > 0) this.logger.debug({ purged }, 'purged sent outbox rows');
  }
}
