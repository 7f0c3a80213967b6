import { type Broker, type MessageEnvelope } from '@concord/core';
import { partitionFor, type DeliveryBatch, type SubscribeOptions, type Subscription } from '@concord/core/spi';
import type { RunControl } from './run-control.js';

interface QueuedMessage {
  /** Publish order across the whole broker: the default delivery order. */
  readonly seq: number;
  readonly envelope: MessageEnvelope;
}

/** Messages one consumer group has yet to acknowledge on one partition of one channel. */
export interface DeliveryQueue {
  readonly group: string;
  readonly channel: string;
  readonly partition: number;
  readonly messages: QueuedMessage[];
  /** Held back by a `delay` fault until the rest of the run is quiet. */
  held: boolean;
}

interface Subscriber {
  readonly options: SubscribeOptions;
  readonly incarnation: number;
  closed: boolean;
}

/**
 * An in-memory, durable-for-the-run broker that delivers nothing by itself: the explorer
 * picks which queue delivers next, one message at a time, so every run is reproducible.
 * Consumer groups keep their queues across crashes (the broker is another process), and
 * a batch whose handler rejects stays unacknowledged, to be delivered again.
 */
export class ScheduledBroker {
  readonly name = 'scheduled';
  private seq = 0;
  private readonly queues = new Map<string, DeliveryQueue>();
  private readonly subscribers = new Map<string, Subscriber>();
  private readonly groupChannels = new Map<string, Set<string>>();
  /** Every message ever published, per channel, so a group that subscribes late sees them all. */
  private readonly log = new Map<string, QueuedMessage[]>();

  constructor(
    private readonly control: RunControl,
    private readonly partitions = 4,
  ) {}

  /** The Broker port as one incarnation of the services sees it. */
  forIncarnation(incarnation: number): Broker {
    return {
      name: this.name,
      capabilities: { partitionedConsumers: true, durable: true },
      publish: (messages) => this.publish(messages, incarnation),
      subscribe: (options) => this.subscribe(options, incarnation),
      close: async () => {},
    };
  }

  private async publish(messages: readonly MessageEnvelope[], incarnation: number): Promise<void> {
    for (const envelope of messages) {
      this.control.assertAlive(incarnation, `publish of ${envelope.type}`);
      this.store(envelope);
      const fault = this.control.reach('publish', envelope.type);
      if (fault === 'duplicate') this.store(envelope);
      if (fault === 'crash-after-publish') throw this.control.crash(`after publishing ${envelope.type}, before marking it sent`);
    }
  }

  private store(envelope: MessageEnvelope): void {
    const queued = { seq: this.seq++, envelope };
    const log = this.log.get(envelope.channel) ?? [];
    log.push(queued);
    this.log.set(envelope.channel, log);
    for (const [group, channels] of this.groupChannels) {
      if (channels.has(envelope.channel)) this.queueFor(group, envelope.channel, envelope.partitionKey).messages.push(queued);
    }
  }

  private queueFor(group: string, channel: string, partitionKey: string): DeliveryQueue {
    const partition = partitionFor(partitionKey, this.partitions);
    const key = `${group}\u0000${channel}\u0000${partition}`;
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { group, channel, partition, messages: [], held: false };
      this.queues.set(key, queue);
    }
    return queue;
  }

  private async subscribe(options: SubscribeOptions, incarnation: number): Promise<Subscription> {
    this.control.assertAlive(incarnation, `subscribe of ${options.group}`);
    let channels = this.groupChannels.get(options.group);
    if (!channels) {
      channels = new Set();
      this.groupChannels.set(options.group, channels);
    }
    for (const channel of options.channels) {
      if (channels.has(channel)) continue;
      channels.add(channel);
      // A new group starts from the beginning of the channel, as a durable consumer would.
      for (const queued of this.log.get(channel) ?? []) this.queueFor(options.group, channel, queued.envelope.partitionKey).messages.push(queued);
    }
    const subscriber: Subscriber = { options, incarnation, closed: false };
    this.subscribers.set(options.group, subscriber);
    return {
      assignedPartitions: () => options.channels.flatMap((c) => Array.from({ length: this.partitions }, (_, p) => `${c}/${p}`)),
      close: async () => {
        subscriber.closed = true;
      },
    };
  }

  /** Queues that could deliver now: a live subscriber, a message waiting, not held. Oldest head first. */
  deliverable(includeHeld = false): DeliveryQueue[] {
    return [...this.queues.values()]
      .filter((q) => q.messages.length > 0 && (includeHeld || !q.held) && this.liveSubscriber(q.group) !== undefined)
      .sort((a, b) => a.messages[0]!.seq - b.messages[0]!.seq);
  }

  heldQueues(): DeliveryQueue[] {
    return [...this.queues.values()].filter((q) => q.held && q.messages.length > 0);
  }

  private liveSubscriber(group: string): Subscriber | undefined {
    const s = this.subscribers.get(group);
    return s && !s.closed && s.incarnation === this.control.incarnation ? s : undefined;
  }

  /**
   * Hands the head of `queue` to its group's handler. Acknowledged (removed) when the handler
   * resolves; with `duplicate`, a copy goes to the back of the queue first.
   */
  async deliverHead(queue: DeliveryQueue, duplicate: boolean): Promise<void> {
    const subscriber = this.liveSubscriber(queue.group);
    const head = queue.messages[0];
    if (!subscriber || !head) return;
    if (duplicate) queue.messages.push({ seq: this.seq++, envelope: head.envelope });
    const batch: DeliveryBatch = { channel: queue.channel, partition: queue.partition, messages: [head.envelope] };
    await subscriber.options.handler(batch);
    // A process that crashed while handling (and swallowed the error) never acknowledges.
    this.control.assertAlive(subscriber.incarnation, `acknowledgement of ${head.envelope.type}`);
    if (queue.messages[0] === head) queue.messages.shift();
  }
}
