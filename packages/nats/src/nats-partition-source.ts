import type { Logger, MessageEnvelope } from '@concord/core';
import type { OpenPartition, PartitionReader, PartitionRef, PartitionSource, ReadOutcome, SubscribeOptions } from '@concord/core/spi';
import { AckPolicy, DeliverPolicy, JetStreamApiCodes, ReplayPolicy, type ConsumerConfig, type ConsumerInfo } from '@nats-io/jetstream';
import type { BrokerContext } from './broker-context.js';
import { decodeEnvelope } from './envelope-codec.js';
import { PartitionPuller, type PulledMessage } from './partition-puller.js';
import { isApiError, nanos } from './streams.js';

const ACK = new TextEncoder().encode('+ACK');
const WORKING = new TextEncoder().encode('+WPI');

/**
 * A group's partitions on JetStream: one durable consumer per (group, partition) with ack
 * policy `all`, its acknowledged floor the group's position (also saved in the meta bucket, so
 * a consumer recreated after a loss resumes there). A new group's consumer delivers from the
 * stream's first message.
 */
export class NatsPartitionSource implements PartitionSource<readonly PulledMessage[]> {
  /** `take` itself waits for messages: an idle read returns at once to the loop. */
  readonly idleWaitMs = 0;
  private readonly readers = new Set<NatsPartitionReader>();
  /** Partitions whose last reader failed or lost its place: the next one recreates the consumer. */
  private readonly dirty = new Set<string>();

  constructor(
    private readonly ctx: BrokerContext,
    private readonly options: SubscribeOptions,
  ) {}

  async open(partition: PartitionRef, _context: OpenPartition): Promise<PartitionReader<readonly PulledMessage[]>> {
    const key = `${partition.channel}/${partition.partition}`;
    const reader = new NatsPartitionReader(this.ctx, this.options, partition, () => this.dirty.add(key), () => this.readers.delete(reader));
    const reset = this.dirty.delete(key);
    try {
      await reader.prepare(reset);
    } catch (error) {
      this.dirty.add(key);
      await reader.close();
      throw error;
    }
    this.readers.add(reader);
    return reader;
  }

  /** After a reconnect, pull requests may be gone with the old server process. */
  requestAgain(): void {
    for (const reader of this.readers) reader.requestAgain();
  }
}

/**
 * One partition's durable consumer opened for its owner: pulls batches (the next one arriving
 * while the handler works on the current one) and acknowledges a batch's last message.
 *
 * Order: deliveries are checked against the consumer's delivery counter. A gap (a delivery lost
 * with a broken connection or a restarted server) or a consumer that another member left with
 * unacknowledged messages or open pull requests makes the reader ask to be reopened, and the
 * next one recreates the consumer at its acknowledged floor, so nothing after a missing message
 * is handled before it.
 */
class NatsPartitionReader implements PartitionReader<readonly PulledMessage[]> {
  private puller: PartitionPuller | undefined;
  /** The last acknowledged message: confirmed once more before the partition is given up. */
  private lastAcked: string | undefined;
  /** The batch with the handler now: it and the batch pulled behind it get `+WPI` while it takes long. */
  private inHand: readonly PulledMessage[] | undefined;
  private expectedDelivery = 1;
  private handledUpTo = 0;
  private readonly stream: string;
  private readonly consumer: string;
  private readonly subject: string;
  private readonly batchSize: number;
  private readonly log: Logger;
  private readonly keepAlive: ReturnType<typeof setInterval>;

  constructor(
    private readonly ctx: BrokerContext,
    private readonly options: SubscribeOptions,
    private readonly p: PartitionRef,
    private readonly markDirty: () => void,
    private readonly onClose: () => void,
  ) {
    this.stream = ctx.names.channelStream(p.channel);
    this.consumer = ctx.names.consumerName(options.group, p.partition);
    this.subject = ctx.names.channelSubject(p.channel, p.partition);
    this.batchSize = Math.min(options.maxBatchSize ?? ctx.settings.maxBatchSize, ctx.settings.maxBatchSize);
    this.log = ctx.logger.child({ group: options.group, channel: p.channel, partition: p.partition });
    this.keepAlive = setInterval(
      () => {
        if (!this.inHand) return;
        for (const m of this.inHand) this.ctx.nc.publish(m.ackSubject, WORKING);
        for (const m of this.puller?.buffered() ?? []) this.ctx.nc.publish(m.ackSubject, WORKING);
      },
      Math.max(200, Math.floor(this.ctx.settings.ackWaitMs / 4)),
    );
  }

  requestAgain(): void {
    this.puller?.requestAgain();
  }

  /** Reuses the durable consumer when it is clean, otherwise recreates it at its acknowledged floor. */
  async prepare(reset: boolean): Promise<void> {
    const { jsm, meta, names } = this.ctx;
    const info = await jsm.consumers.info(this.stream, this.consumer).catch((error: unknown) => {
      if (isApiError(error, JetStreamApiCodes.ConsumerNotFound)) return undefined;
      throw error;
    });
    const wanted = this.config();
    if (!reset && info && this.reusable(info, wanted)) {
      this.expectedDelivery = info.delivered.consumer_seq + 1;
      this.handledUpTo = info.ack_floor.stream_seq;
    } else {
      const positionKey = names.positionKey(this.options.group, this.p.channel, this.p.partition);
      const saved = Number((await meta.get(positionKey))?.value ?? 0);
      const floor = Math.max(info?.ack_floor.stream_seq ?? 0, saved);
      if (info) {
        // Saved first: if we die between delete and create, the next owner still knows the floor.
        if (floor > saved) await meta.put(positionKey, String(floor));
        await jsm.consumers.delete(this.stream, this.consumer).catch((error: unknown) => {
          if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
        });
        this.log.debug({ floor, pending: info.num_ack_pending, waiting: info.num_waiting }, 'consumer recreated at its floor');
      }
      await jsm.consumers.add(this.stream, {
        ...wanted,
        ...(floor > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1 } : { deliver_policy: DeliverPolicy.All }),
      });
      this.expectedDelivery = 1;
      this.handledUpTo = floor;
    }
    this.puller = new PartitionPuller(this.ctx.nc, this.stream, this.consumer, this.batchSize, this.ctx.settings.pullExpiresMs);
    this.puller.start();
  }

  private config(): Partial<ConsumerConfig> {
    return {
      durable_name: this.consumer,
      description: `Concord group ${this.options.group}, ${this.p.channel}/${this.p.partition}`,
      filter_subject: this.subject,
      ack_policy: AckPolicy.All,
      ack_wait: nanos(this.ctx.settings.ackWaitMs),
      max_ack_pending: this.batchSize * 2,
      max_deliver: -1,
      replay_policy: ReplayPolicy.Instant,
    };
  }

  private reusable(info: ConsumerInfo, wanted: Partial<ConsumerConfig>): boolean {
    return (
      info.num_ack_pending === 0 &&
      info.num_waiting === 0 &&
      info.config.filter_subject === wanted.filter_subject &&
      info.config.ack_policy === AckPolicy.All &&
      info.config.max_ack_pending === wanted.max_ack_pending
    );
  }

  async read(max: number, signal: AbortSignal): Promise<ReadOutcome<readonly PulledMessage[]>> {
    const puller = this.puller!;
    let pulled: PulledMessage[];
    try {
      pulled = await puller.take(Math.min(max, this.batchSize), 1_000, signal);
    } catch (error) {
      this.markDirty();
      throw error;
    }
    if (puller.problem) {
      this.log.info({ problem: puller.problem }, 'consumer unavailable; recreating it');
      return this.reopen();
    }
    if (pulled.length === 0) return 'idle';
    for (const m of pulled) {
      if (m.deliverySequence !== this.expectedDelivery) {
        this.log.info({ expected: this.expectedDelivery, got: m.deliverySequence }, 'delivery gap; recreating the consumer at its floor');
        return this.reopen();
      }
      this.expectedDelivery++;
    }
    this.inHand = pulled;
    return { messages: this.decode(pulled.filter((m) => m.streamSequence > this.handledUpTo)), position: pulled, caughtUp: false };
  }

  private reopen(): 'reopen' {
    this.markDirty();
    return 'reopen';
  }

  private decode(pulled: readonly PulledMessage[]): MessageEnvelope[] {
    const out: MessageEnvelope[] = [];
    for (const m of pulled) {
      const envelope = decodeEnvelope(m.data);
      if (typeof envelope === 'string') {
        this.log.error({ streamSequence: m.streamSequence, problem: envelope }, 'skipping a message that is not a Concord envelope');
      } else {
        out.push(envelope);
      }
    }
    return out;
  }

  /** Acks go out unconfirmed, one per batch (ack policy `all`: the last one covers the batch). */
  async commit(pulled: readonly PulledMessage[]): Promise<boolean> {
    const last = pulled.reduce((a, b) => (b.streamSequence > a.streamSequence ? b : a));
    this.handledUpTo = Math.max(this.handledUpTo, last.streamSequence);
    this.ctx.nc.publish(last.ackSubject, ACK);
    this.lastAcked = last.ackSubject;
    this.inHand = undefined;
    return true;
  }

  /**
   * Stops pulling, then confirms the acks: before the partition changes hands one confirmed ack
   * (JetStream answers it once every earlier ack of ours was processed) makes them certain.
   */
  async close(): Promise<void> {
    clearInterval(this.keepAlive);
    this.inHand = undefined;
    this.onClose();
    await this.puller?.stop();
    this.puller = undefined;
    if (!this.lastAcked) return;
    await this.ctx.replies.request(this.lastAcked, ACK).catch((error: unknown) => {
      this.log.debug({ err: error }, 'acks not confirmed; the next owner may see the last batch again');
    });
  }
}
