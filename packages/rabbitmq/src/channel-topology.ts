import type { Logger } from '@concord/core';
import type { AmqpChannel, AmqpConfirmChannel, AmqpQueueInfo } from './amqp-client.js';
import { sendConfirmed } from './confirm.js';
import type { RabbitConnection } from './rabbit-connection.js';
import { PartitionMismatchError, errorMessage } from './rabbit-errors.js';
import { retrying } from './retry.js';
import { runLimited } from './run-limited.js';
import type { RabbitNames } from './rabbit-names.js';
import type { RabbitBrokerSettings } from './rabbit-options.js';

/** How long an existing descriptor may take to arrive before we assume the channel is new. */
const DESCRIPTOR_PROBE_MS = 150;
const DESCRIPTOR_WAIT_MS = 10_000;
/** Declarations in flight at once, each on its own short-lived channel. */
export const DECLARE_CONCURRENCY = 16;

/**
 * A channel is P streams, one per partition, plus a descriptor stream whose FIRST message
 * fixes P. Every instance appends its own count only when it finds none, then reads the first
 * message: the stream's total order makes all instances agree even when they race.
 */
export class ChannelTopology {
  private readonly known = new Map<string, Promise<number>>();
  private readonly logger: Logger;

  constructor(
    private readonly connection: RabbitConnection,
    private readonly names: RabbitNames,
    private readonly settings: RabbitBrokerSettings,
  ) {
    this.logger = settings.logger.child({ component: 'rabbitmq-topology' });
  }

  /** The partition count of `channel`, creating its streams on first use. */
  partitionsOf(channel: string): Promise<number> {
    let known = this.known.get(channel);
    if (!known) {
      known = retrying(() => this.declare(channel), {
        what: `declaring channel ${channel}`,
        withinMs: this.settings.publishTimeoutMs,
        isFatal: (error) => error instanceof PartitionMismatchError,
        logger: this.logger,
      });
      this.known.set(channel, known);
      known.catch(() => this.known.delete(channel));
    }
    return known;
  }

  /** Channels this instance has used. */
  channels(): string[] {
    return [...this.known.keys()];
  }

  /** Forgets what was declared, so the next use declares again (after a queue was deleted). */
  forget(channel: string): void {
    this.known.delete(channel);
  }

  /**
   * Declares a lease queue on a channel of its own (a refused declaration closes its channel,
   * and the group session's must live on); a queue nobody ever used gets its first offset.
   */
  declareLease(queue: string): Promise<void> {
    return retrying(() => this.declareLeaseOnce(queue), {
      what: `declaring lease queue ${queue}`,
      withinMs: this.settings.publishTimeoutMs,
      logger: this.logger,
    });
  }

  private async declareLeaseOnce(queue: string): Promise<void> {
    let info: AmqpQueueInfo;
    try {
      info = await this.withChannel((ch) => ch.assertQueue(queue, { durable: true, arguments: this.leaseArguments() }));
    } catch (error) {
      if (!isPreconditionFailed(error)) throw error;
      // Declared before with other arguments, e.g. under RabbitMQ 3 before an upgrade to 4:
      // it still works; see the README on the delivery limit.
      this.logger.warn({ queue, err: errorMessage(error) }, 'lease queue exists with other arguments; using it as it is');
      info = await this.withChannel((ch) => ch.checkQueue(queue));
    }
    // Empty and unwatched means new: a held offset counts as a consumer, a returned one as a
    // message. A race can add a second start offset; the owner discards it (see PartitionLease).
    if (info.messageCount === 0 && info.consumerCount === 0) {
      await this.withChannel((ch) => sendConfirmed(ch, queue, Buffer.from(JSON.stringify({ next: 0, initial: true }))));
    }
  }

  leaseArguments(): Record<string, unknown> {
    return {
      'x-queue-type': 'quorum',
      'x-single-active-consumer': true,
      // RabbitMQ 4 drops a message returned 20 times by default; the offset must never go.
      // 3.x has no limit unless one is set, and reads -1 as "drop on first return".
      ...(this.connection.serverMajor >= 4 ? { 'x-delivery-limit': -1 } : {}),
    };
  }

  /** The partition count a channel was created with, without creating it (configured count if it is gone). */
  async describedPartitions(channel: string): Promise<number> {
    const known = await this.known.get(channel)?.catch(() => undefined);
    if (known !== undefined) return known;
    try {
      const found = await this.withChannel(async (ch) => {
        // Passive: a missing descriptor must not be created by a clean-up.
        await ch.checkQueue(this.names.channelDescriptor(channel));
        return this.readDescriptor(ch, channel, DESCRIPTOR_PROBE_MS);
      });
      return found ?? this.settings.partitions;
    } catch {
      return this.settings.partitions;
    }
  }

  async deleteChannel(channel: string): Promise<void> {
    const partitions = await this.describedPartitions(channel);
    this.known.delete(channel);
    await this.withChannel(async (ch) => {
      for (let p = 0; p < partitions; p++) await ch.deleteQueue(this.names.stream(channel, p));
      await ch.deleteQueue(this.names.channelDescriptor(channel));
    });
  }

  async deleteGroup(group: string, channel: string): Promise<void> {
    const partitions = await this.describedPartitions(channel);
    await this.withChannel(async (ch) => {
      for (let p = 0; p < partitions; p++) await ch.deleteQueue(this.names.lease(group, channel, p));
    });
  }

  private async declare(channel: string): Promise<number> {
    const descriptor = this.names.channelDescriptor(channel);
    const partitions = await this.withChannel(async (ch) => {
      await ch.assertQueue(descriptor, { durable: true, arguments: { 'x-queue-type': 'stream' } });
      const found = await this.readDescriptor(ch, channel, DESCRIPTOR_PROBE_MS);
      if (found !== undefined) return found;
      await sendConfirmed(ch, descriptor, Buffer.from(JSON.stringify({ partitions: this.settings.partitions })));
      const first = await this.readDescriptor(ch, channel, DESCRIPTOR_WAIT_MS);
      if (first === undefined) throw new Error(`descriptor of channel ${channel} did not arrive`);
      return first;
    });
    if (partitions !== this.settings.partitions) throw new PartitionMismatchError(channel, this.settings.partitions, partitions);
    const streams = Array.from({ length: partitions }, (_, p) => this.names.stream(channel, p));
    await runLimited(streams, DECLARE_CONCURRENCY, (queue) => this.declareStream(queue));
    this.logger.debug({ channel, partitions }, 'channel streams declared');
    return partitions;
  }

  private async declareStream(queue: string): Promise<void> {
    const { maxAge, maxLengthBytes, maxSegmentSizeBytes } = this.settings.retention;
    const args: Record<string, unknown> = {
      'x-queue-type': 'stream',
      'x-stream-max-segment-size-bytes': maxSegmentSizeBytes,
      ...(maxAge ? { 'x-max-age': maxAge } : {}),
      ...(maxLengthBytes !== undefined ? { 'x-max-length-bytes': maxLengthBytes } : {}),
    };
    try {
      await this.withChannel((ch) => ch.assertQueue(queue, { durable: true, arguments: args }));
    } catch (error) {
      // PRECONDITION_FAILED: the stream exists with other retention settings. It still works;
      // changing retention of an existing stream is a policy's job, not a redeclaration's.
      if (!isPreconditionFailed(error)) throw error;
      this.logger.warn({ queue, err: error }, 'stream exists with other retention arguments; keeping them');
    }
  }

  /** The partition count in the descriptor's first message, or undefined if none came in time. */
  private async readDescriptor(ch: AmqpChannel, channel: string, waitMs: number): Promise<number | undefined> {
    const descriptor = this.names.channelDescriptor(channel);
    await ch.prefetch(1);
    let settle!: (value: number | Error | undefined) => void;
    const first = new Promise<number | Error | undefined>((resolve) => (settle = resolve));
    const { consumerTag } = await ch.consume(
      descriptor,
      (message) => {
        if (!message) return settle(new Error(`descriptor stream of channel ${channel} was deleted`));
        try {
          const partitions = (JSON.parse(message.content.toString('utf8')) as { partitions?: unknown }).partitions;
          if (typeof partitions !== 'number' || !Number.isInteger(partitions) || partitions < 1) throw new Error('no partition count');
          settle(partitions);
        } catch (error) {
          settle(new Error(`descriptor of channel ${channel} is unreadable: ${errorMessage(error)}`));
        }
      },
      { noAck: false, arguments: { 'x-stream-offset': 'first' } },
    );
    const timer = setTimeout(() => settle(undefined), waitMs);
    const result = await first;
    clearTimeout(timer);
    await ch.cancel(consumerTag);
    if (result instanceof Error) throw result;
    return result;
  }

  /** Runs `fn` on a short-lived confirm channel: a failed declaration closes its channel. */
  private async withChannel<T>(fn: (ch: AmqpConfirmChannel) => Promise<T>): Promise<T> {
    const ch = await this.connection.createConfirmChannel(this.settings.publishTimeoutMs);
    try {
      return await fn(ch);
    } finally {
      await ch.close().catch(() => undefined);
    }
  }
}

function isPreconditionFailed(error: unknown): boolean {
  return /PRECONDITION_FAILED|inequivalent/i.test(errorMessage(error));
}
