import type { Logger } from '@concord/core';
import type { AmqpConfirmChannel, AmqpMessage } from './amqp-client.js';
import type { ChannelTopology } from './channel-topology.js';
import { sendConfirmed } from './confirm.js';

/** Where a group resumes reading a partition: the stream offset after the last handled message. */
export interface LeaseStart {
  readonly next: number;
  /** True for a group that never committed: reading from the stream's first message. */
  readonly initial: boolean;
}

/**
 * A group's claim on one partition: a quorum queue with single active consumer that always
 * holds one message, the committed offset. The active consumer owns the partition and keeps
 * that message unacknowledged (prefetch 1), so if its connection dies RabbitMQ returns it and
 * activates the next consumer, which resumes there.
 *
 * A commit publishes the new offset, waits for the confirm, then acknowledges what it held;
 * the queue is never empty of the newest offset. A release cancels the consumer first (the
 * next one is activated and waits), then publishes the offset for it and acknowledges.
 * Leftovers from a crash between publish and ack are older offsets: whoever meets one
 * discards it, and starting from one only redelivers.
 */
export class PartitionLease {
  private consumerTag: string | undefined;
  private held: AmqpMessage[] = [];
  private maxSeen = -1;
  private lastPublished = -1;
  private target = -1;
  private committing: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private activated = false;
  private ending = false;

  constructor(
    private readonly channel: AmqpConfirmChannel,
    private readonly topology: ChannelTopology,
    readonly queue: string,
    private readonly commitIntervalMs: number,
    private readonly onActivated: (start: LeaseStart) => void,
    private readonly onLost: (reason: Error) => void,
    private readonly logger: Logger,
  ) {}

  /** Stops committing (the session is gone; RabbitMQ returns what we held). */
  abandon(): void {
    this.ending = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.consumerTag = undefined;
  }

  /** Registers as a candidate owner; `onActivated` runs when RabbitMQ makes us the active one. */
  async claim(): Promise<void> {
    await this.topology.declareLease(this.queue);
    const { consumerTag } = await this.channel.consume(this.queue, (message) => this.onDelivery(message), { noAck: false });
    this.consumerTag = consumerTag;
  }

  /**
   * Moves the committed offset to `next`, at most once per `commitIntervalMs`: each commit is
   * a quorum-queue write, and a crash only redelivers what the interval covered.
   */
  commit(next: number): void {
    this.target = Math.max(this.target, next);
    if (this.committing || this.timer || this.ending) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.committing = this.flush()
        .catch((error: Error) => this.onLost(error))
        .finally(() => {
          this.committing = undefined;
          if (this.target > this.lastPublished) this.commit(this.target);
        });
    }, this.commitIntervalMs);
  }

  /** Gives the partition up after the reader stopped at `next` (undefined if it never read). */
  async release(next: number | undefined): Promise<void> {
    this.ending = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.committing;
    if (this.consumerTag) await this.channel.cancel(this.consumerTag);
    this.consumerTag = undefined;
    // Deliveries come before cancel-ok, so `held` is final now.
    if (!this.activated && this.held.length === 0) return;
    const value = Math.max(next ?? -1, this.maxSeen, this.lastPublished, this.target);
    await this.publish(value);
    this.ackHeld();
  }

  private async flush(): Promise<void> {
    while (this.target > this.lastPublished) {
      const value = Math.max(this.target, this.maxSeen);
      await this.publish(value);
      this.ackHeld();
    }
  }

  private async publish(value: number): Promise<void> {
    await sendConfirmed(this.channel, this.queue, Buffer.from(JSON.stringify({ next: value })));
    this.lastPublished = Math.max(this.lastPublished, value);
  }

  private ackHeld(): void {
    for (const message of this.held) this.channel.ack(message);
    this.held = [];
  }

  private onDelivery(message: AmqpMessage | null): void {
    if (!message) {
      this.onLost(new Error(`lease queue ${this.queue} was deleted`));
      return;
    }
    const start = parseOffset(message.content);
    if (!start) this.logger.warn({ queue: this.queue }, 'unreadable partition offset; reading the partition from its start');
    const next = start?.next ?? 0;
    if (next < this.lastPublished) {
      // An older offset left by a crash: ours is newer and already in the queue.
      this.channel.ack(message);
      return;
    }
    this.held.push(message);
    this.maxSeen = Math.max(this.maxSeen, next);
    if (!this.activated) {
      this.activated = true;
      this.onActivated({ next, initial: start?.initial ?? false });
    }
  }
}

function parseOffset(content: Buffer): LeaseStart | undefined {
  try {
    const value = JSON.parse(content.toString('utf8')) as { next?: unknown; initial?: unknown };
    if (typeof value.next !== 'number' || !Number.isSafeInteger(value.next) || value.next < 0) return undefined;
    return { next: value.next, initial: value.initial === true };
  } catch {
    return undefined;
  }
}
