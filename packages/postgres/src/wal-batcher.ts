import type { Clock, Logger } from '@concord/core';
import type { OutboxRecord, UndecodableOutboxRow } from '@concord/core/spi';
import type { WalStream, WalTransaction } from './wal-stream.js';

export interface WalBatcherOptions {
  readonly maxBatchSize: number;
  /** Messages received but not yet published before the stream is paused. */
  readonly maxPendingMessages: number;
  readonly stallTimeoutMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * Parks the undecodable rows, publishes and settles (marks or deletes) records, retrying
   * until `signal` aborts; `onConnectionLost` closes the stream when PostgreSQL itself is unreachable.
   */
  readonly publish: (
    batch: { records: OutboxRecord[]; undecodable: UndecodableOutboxRow[] },
    signal: AbortSignal,
    onConnectionLost: (error: unknown) => void,
  ) => Promise<void>;
  /** A position is safe to confirm: everything before it is published. */
  readonly onConfirmed: (lsn: bigint, transactions: number) => void;
}

/**
 * Between the WAL stream and the broker: queues committed transactions in commit order,
 * publishes them in batches one after another, and confirms each batch's end position only
 * after it was published. Pauses the stream when too much waits.
 */
export class WalBatcher {
  private readonly queue: WalTransaction[] = [];
  private queued = 0;
  private publishing: Promise<void> | undefined;
  private batchSince: number | undefined;
  private burstFrom = 0;
  private burst = 0;
  /** Aborted when the stream ends: what is queued will come again from the slot. */
  private readonly abort = new AbortController();
  private wal: WalStream | undefined;

  constructor(private readonly options: WalBatcherOptions) {}

  attach(wal: WalStream): void {
    this.wal = wal;
  }

  push(tx: WalTransaction): void {
    const last = this.queue[this.queue.length - 1];
    // Consecutive positions with nothing to publish collapse into one.
    if (isEmpty(tx) && last && isEmpty(last)) this.queue[this.queue.length - 1] = tx;
    else this.queue.push(tx);
    this.queued += tx.records.length;
    if (this.queued >= this.options.maxPendingMessages) this.wal?.pause();
    this.kick();
  }

  /**
   * The server asked for a status reply. One that shuts down waits for its walsenders'
   * clients to confirm everything, and asks again the moment each reply arrives: a burst of
   * requests (or one long stall) while a batch is stuck means it waits for us, so let go.
   */
  replyRequested(): void {
    const now = this.options.clock.now();
    if (now - this.burstFrom > 1_000) {
      this.burstFrom = now;
      this.burst = 0;
    }
    this.burst++;
    if (this.batchSince === undefined) return;
    if (this.burst >= 50 || now - this.batchSince > this.options.stallTimeoutMs) {
      this.wal?.abort(new Error('the server waits for a confirmation while publishing is stuck; reconnecting later'));
    }
  }

  /** Stops taking batches; the one in flight finishes (and is confirmed) first. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.publishing;
  }

  private kick(): void {
    this.publishing ??= this.drain()
      .catch((error: unknown) => {
        if (!this.abort.signal.aborted) this.options.logger.warn({ err: error }, 'publishing from the WAL failed');
      })
      .finally(() => {
        this.publishing = undefined;
        if (this.queue.length > 0 && !this.abort.signal.aborted) this.kick();
      });
  }

  private async drain(): Promise<void> {
    const { maxBatchSize, maxPendingMessages, clock } = this.options;
    while (this.queue.length > 0 && !this.abort.signal.aborted) {
      let take = 0;
      let count = 0;
      while (take < this.queue.length && (take === 0 || count + this.queue[take]!.records.length <= maxBatchSize)) {
        count += this.queue[take]!.records.length;
        take++;
      }
      const batch = this.queue.slice(0, take);
      const records = batch.flatMap((t) => t.records);
      const undecodable = batch.flatMap((t) => t.undecodable);
      this.batchSince = clock.now();
      if (records.length > 0 || undecodable.length > 0) {
        await this.options.publish({ records, undecodable }, this.abort.signal, (error) => this.wal?.abort(error));
      }
      this.batchSince = undefined;
      this.queue.splice(0, take);
      this.queued -= records.length;
      const end = batch[batch.length - 1]!.endLsn;
      this.options.onConfirmed(end, batch.filter((t) => !isEmpty(t)).length);
      this.wal?.acknowledge(end);
      if (this.queued < maxPendingMessages / 2) this.wal?.resume();
    }
  }
}

function isEmpty(tx: WalTransaction): boolean {
  return tx.records.length === 0 && tx.undecodable.length === 0;
}
