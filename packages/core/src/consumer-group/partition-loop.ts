import { backoffDelay, defaultBackoff } from '../consumer/backoff.js';
import { ConcordErrorCode, isConcordError } from '../errors.js';
import type { DeliveryBatch } from '../ports/broker.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { WakeSignal } from '../util/wake-signal.js';
import type { PartitionReader, PartitionRef, PartitionSource } from './ports.js';

export interface PartitionLoopOptions {
  readonly source: PartitionSource;
  readonly handler: (batch: DeliveryBatch) => Promise<void>;
  readonly maxBatchSize: number;
  readonly generation: number;
  /** False once the lease may have expired without renewal: start no new batch until renewed. */
  readonly leaseValid: () => boolean;
  /** The reader found another member owning the partition. */
  readonly onLost: () => void;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Delivers one partition to one group member, in order: opens the partition at the group's
 * committed position, hands each batch to the handler (again, after a backoff, while it
 * rejects), and commits its position once accepted. A failed read or commit reopens the
 * partition at the committed position, so nothing after an unhandled message is handled first.
 */
export class PartitionLoop {
  readonly wake = new WakeSignal();
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(
    readonly partition: PartitionRef,
    private readonly options: PartitionLoopOptions,
  ) {
    this.log = options.logger.child({ channel: partition.channel, partition: partition.partition });
  }

  start(): void {
    this.loop = this.run();
  }

  /** Finishes (and commits) the batch in hand, then closes the reader. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { source, clock } = this.options;
    const signal = this.abort.signal;
    let reader: PartitionReader<unknown> | undefined;
    let failures = 0;
    const closeReader = async () => {
      const closing = reader;
      reader = undefined;
      await closing?.close().catch((error: unknown) => this.log.warn({ err: error }, 'closing the partition reader failed'));
    };

    while (!signal.aborted) {
      if (!this.options.leaseValid()) {
        // Real time until the heartbeat renews the lease: a test's virtual clock answers sleep()
        // at once, and this loop would spin without ever letting the heartbeat run.
        await this.wake.wait(50, signal);
        continue;
      }
      try {
        reader ??= await source.open(this.partition, { wake: this.wake, generation: this.options.generation });
        const got = await reader.read(this.options.maxBatchSize, signal);
        if (got === 'lost') return await this.lost(closeReader);
        if (got === 'reopen') {
          await closeReader();
          continue;
        }
        if (got === 'idle') {
          await this.wake.wait(source.idleWaitMs, signal);
          continue;
        }
        // Checked before the handler only: a batch that started is finished and committed.
        if (signal.aborted) break;
        if (got.messages.length > 0) {
          const delivered = await this.deliver({ ...this.partition, messages: got.messages }, signal);
          if (!delivered) {
            // Stopped, or the lease lapsed while the handler kept rejecting: read again from the commit.
            await closeReader();
            continue;
          }
        }
        if (!(await reader.commit(got.position))) return await this.lost(closeReader);
        failures = 0;
        if (got.caughtUp) await this.wake.wait(source.idleWaitMs, signal);
      } catch (error) {
        if (signal.aborted) break;
        failures++;
        this.log.warn({ err: error, failures }, 'partition read or commit failed; reading again from the committed position');
        await closeReader();
        await clock.sleep(backoffDelay(defaultBackoff, failures), signal);
      }
    }
    await closeReader();
  }

  private async lost(closeReader: () => Promise<void>): Promise<void> {
    this.log.info({}, 'partition lease taken by another member (or the group moved on); stopping');
    this.options.onLost();
    await closeReader();
  }

  /** Hands the batch to the handler until it accepts it; false if stopped or the lease lapsed first. */
  private async deliver(batch: DeliveryBatch, signal: AbortSignal): Promise<boolean> {
    let failures = 0;
    for (;;) {
      try {
        await this.options.handler(batch);
        return true;
      } catch (error) {
        if (signal.aborted) return false;
        failures++;
        // A consumer that is stopping rejects with ClosedError just before we are stopped too.
        if (isConcordError(error, ConcordErrorCode.CLOSED)) this.log.debug({ failures }, 'handler closed; batch handed back');
        else this.log.warn({ err: error, failures, messages: batch.messages.length }, 'batch rejected by the handler; delivering it again');
        await this.options.clock.sleep(backoffDelay(defaultBackoff, failures), signal);
        if (signal.aborted || !this.options.leaseValid()) return false;
      }
    }
  }
}
