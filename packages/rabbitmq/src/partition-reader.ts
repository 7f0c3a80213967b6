import { defaultBackoff, type Logger, type MessageEnvelope } from '@concord/core';
import { backoffDelay, WakeSignal, type DeliveryBatch } from '@concord/core/spi';
import type { AmqpChannel, AmqpMessage } from './amqp-client.js';
import { decodeEnvelope } from './envelope-codec.js';
import type { LeaseStart } from './partition-lease.js';
import type { RabbitConnection } from './rabbit-connection.js';
import { errorMessage } from './rabbit-errors.js';
import { isNotFound, retrying } from './retry.js';
import type { RabbitBrokerSettings } from './rabbit-options.js';

interface Delivery {
  readonly offset: number;
  readonly message: AmqpMessage;
  /** Undefined for a body that is not an envelope: it is skipped (and logged), never handed on. */
  readonly envelope: MessageEnvelope | undefined;
}

export interface PartitionReaderOptions {
  readonly connection: RabbitConnection;
  readonly settings: RabbitBrokerSettings;
  readonly stream: string;
  readonly channel: string;
  readonly partition: number;
  readonly start: LeaseStart;
  readonly maxBatchSize: number;
  readonly handler: (batch: DeliveryBatch) => Promise<void>;
  /** Called after each accepted batch with the offset to resume from. */
  readonly onProgress: (next: number) => void;
  readonly onFailure: (error: Error) => void;
  readonly logger: Logger;
}

/**
 * Reads one partition stream from the group's committed offset and hands it to the handler in
 * batches, one at a time, in offset order. A rejected batch is handed over again (after a
 * backoff) before anything behind it, so a key's messages never overtake each other.
 */
export class PartitionReader {
  private ch: AmqpChannel | undefined;
  private buffer: Delivery[] = [];
  private readonly wake = new WakeSignal();
  private readonly stopping = new AbortController();
  private started: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private next: number;
  private sawFirst = false;

  constructor(private readonly options: PartitionReaderOptions) {
    this.next = options.start.next;
  }

  /** Starts reading; `stop()` may be called at any time, also while this is still retrying. */
  start(): Promise<void> {
    this.started ??= this.open();
    return this.started;
  }

  private async open(): Promise<void> {
    const { settings, stream, logger } = this.options;
    const ch = await retrying(() => this.consume(), {
      what: `reading stream ${stream}`,
      withinMs: settings.publishTimeoutMs,
      isFatal: isNotFound,
      signal: this.stopping.signal,
      logger,
    });
    this.ch = ch;
    ch.once('close', () => {
      if (!this.stopping.signal.aborted) this.options.onFailure(new Error(`stream channel of ${stream} closed`));
    });
    if (this.stopping.signal.aborted) return void ch.close().catch(() => undefined);
    this.loop = this.run();
  }

  /** A channel consuming the stream from the start offset; closed again if that fails. */
  private async consume(): Promise<AmqpChannel> {
    const { connection, settings, stream, start } = this.options;
    const ch = await connection.createChannel(settings.publishTimeoutMs);
    try {
      await ch.prefetch(settings.prefetch);
      await ch.consume(stream, (message) => this.onDelivery(message), {
        noAck: false,
        arguments: { 'x-stream-offset': { '!': 'long', value: start.next } },
      });
      return ch;
    } catch (error) {
      await ch.close().catch(() => undefined);
      throw error;
    }
  }

  /** Stops taking batches, waits for the one in flight, and returns the offset to resume from. */
  async stop(): Promise<number> {
    this.stopping.abort();
    this.wake.wake();
    await this.started?.catch(() => undefined);
    await this.loop;
    await this.ch?.close().catch(() => undefined);
    return this.next;
  }

  private onDelivery(message: AmqpMessage | null): void {
    if (!message) {
      this.options.onFailure(new Error(`stream ${this.options.stream} was deleted`));
      return;
    }
    const offset = Number(message.properties.headers?.['x-stream-offset']);
    if (!Number.isSafeInteger(offset) || offset < this.next) {
      // Streams may resend the start of a chunk; what is behind us was handled already.
      this.ch?.ack(message);
      return;
    }
    if (!this.sawFirst) {
      this.sawFirst = true;
      if (offset > this.options.start.next && !this.options.start.initial) {
        this.options.logger.error(
          { stream: this.options.stream, committed: this.options.start.next, first: offset },
          'messages expired by stream retention before this group read them',
        );
      }
    }
    let envelope: MessageEnvelope | undefined;
    try {
      envelope = decodeEnvelope(message.content, this.options.stream);
    } catch (err) {
      this.options.logger.error({ err, stream: this.options.stream, offset }, 'skipping a message that is not a Concord envelope');
    }
    this.buffer.push({ offset, message, envelope });
    this.wake.wake();
  }

  private async run(): Promise<void> {
    const { handler, channel, partition, maxBatchSize, logger, settings } = this.options;
    const signal = this.stopping.signal;
    let failures = 0;
    while (!signal.aborted) {
      if (this.buffer.length === 0) {
        await this.wake.wait(1_000, signal);
        continue;
      }
      const batch = this.buffer.slice(0, maxBatchSize);
      const messages = batch.flatMap((d) => (d.envelope ? [d.envelope] : []));
      if (messages.length > 0) {
        try {
          await handler({ channel, partition, messages });
        } catch (err) {
          if (signal.aborted) return;
          failures++;
          const delay = backoffDelay(defaultBackoff, failures);
          logger.warn({ err: errorMessage(err), channel, partition, failures, retryInMs: delay }, 'batch rejected; delivering it again');
          await settings.clock.sleep(delay, signal);
          continue;
        }
      }
      failures = 0;
      this.buffer.splice(0, batch.length);
      const last = batch[batch.length - 1]!;
      try {
        this.ch?.ack(last.message, true);
      } catch {
        // The channel closed under us; its close handler reports it. Acks on a stream only
        // return credit, so nothing is redelivered because of this.
      }
      this.next = last.offset + 1;
      this.options.onProgress(this.next);
    }
  }
}
