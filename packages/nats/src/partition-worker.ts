import { defaultBackoff, isConcordError, systemClock, type Logger, type MessageEnvelope } from '@concord/core';
import { backoffDelay, type SubscribeOptions } from '@concord/core/spi';
import { AckPolicy, DeliverPolicy, JetStreamApiCodes, ReplayPolicy, type ConsumerConfig, type ConsumerInfo } from '@nats-io/jetstream';
import type { BrokerContext } from './broker-context.js';
import { decodeEnvelope } from './envelope-codec.js';
import { PartitionPuller, type PulledMessage } from './partition-puller.js';
import { isApiError, nanos } from './streams.js';

const ACK = new TextEncoder().encode('+ACK');
const WORKING = new TextEncoder().encode('+WPI');

/** What a worker needs to know about its partition lease. */
export interface LeaseView {
  /** False once the lease may have expired on the server (renewals failing): stop taking batches. */
  isValid(): boolean;
}

/**
 * Delivers one partition of one channel to one group member: pulls batches from the durable
 * consumer of (group, partition), hands each to the handler (again, after a backoff, while it
 * rejects), and acknowledges the batch's last message (ack policy `all`).
 *
 * Order: deliveries are checked against the consumer's delivery counter. A gap (a delivery lost
 * with a broken connection or a restarted server) or a consumer that another member left with
 * unacknowledged messages or open pull requests makes the worker recreate the consumer at its
 * acknowledged floor, so nothing after a missing message is handled before it.
 */
export class PartitionWorker {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
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

  constructor(
    private readonly ctx: BrokerContext,
    private readonly options: SubscribeOptions,
    readonly channel: string,
    readonly partition: number,
    private readonly lease: LeaseView,
  ) {
    this.stream = ctx.names.channelStream(channel);
    this.consumer = ctx.names.consumerName(options.group, partition);
    this.subject = ctx.names.channelSubject(channel, partition);
    this.batchSize = Math.min(options.maxBatchSize ?? ctx.settings.maxBatchSize, ctx.settings.maxBatchSize);
    this.log = ctx.logger.child({ group: options.group, channel, partition });
  }

  start(): void {
    this.loop = this.run();
  }

  /** Finishes (and acknowledges) the batch in hand, then stops pulling. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  requestAgain(): void {
    this.puller?.requestAgain();
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let failures = 0;
    let reset = false;
    const keepAlive = setInterval(
      () => {
        if (!this.inHand) return;
        for (const m of this.inHand) this.ctx.nc.publish(m.ackSubject, WORKING);
        for (const m of this.puller?.buffered() ?? []) this.ctx.nc.publish(m.ackSubject, WORKING);
      },
      Math.max(200, Math.floor(this.ctx.settings.ackWaitMs / 4)),
    );
    while (!signal.aborted) {
      try {
        if (!this.lease.isValid()) {
          await systemClock.sleep(50, signal);
          continue;
        }
        if (reset) await this.confirmAcks(); // so the floor we restart from is current
        await this.prepare(reset);
        reset = await this.consume(signal);
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        failures++;
        reset = true;
        this.log.warn({ err: error, failures }, 'partition consumer failed; starting it again');
        await systemClock.sleep(backoffDelay(defaultBackoff, failures), signal);
      } finally {
        await this.puller?.stop();
        this.puller = undefined;
      }
    }
    clearInterval(keepAlive);
    await this.confirmAcks();
  }

  /**
   * Acks go out unconfirmed, one per batch; before the partition changes hands one confirmed ack
   * (JetStream answers it once every earlier ack of ours was processed) makes them certain.
   */
  private async confirmAcks(): Promise<void> {
    if (!this.lastAcked) return;
    await this.ctx.replies.request(this.lastAcked, ACK).catch((error: unknown) => {
      this.log.debug({ err: error }, 'acks not confirmed; the next owner may see the last batch again');
    });
  }

  /** Reuses the durable consumer when it is clean, otherwise recreates it at its acknowledged floor. */
  private async prepare(reset: boolean): Promise<void> {
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
      const positionKey = names.positionKey(this.options.group, this.channel, this.partition);
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
      this.lastAcked = undefined;
    }
    this.puller = new PartitionPuller(this.ctx.nc, this.stream, this.consumer, this.batchSize, this.ctx.settings.pullExpiresMs);
    this.puller.start();
  }

  private config(): Partial<ConsumerConfig> {
    return {
      durable_name: this.consumer,
      description: `Concord group ${this.options.group}, ${this.channel}/${this.partition}`,
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

  /** Returns true when the consumer must be recreated, false when the worker was stopped. */
  private async consume(signal: AbortSignal): Promise<boolean> {
    const puller = this.puller!;
    while (!signal.aborted) {
      if (!this.lease.isValid()) return false;
      const pulled = await puller.take(this.batchSize, 1_000, signal);
      if (puller.problem) {
        this.log.info({ problem: puller.problem }, 'consumer unavailable; recreating it');
        return true;
      }
      if (pulled.length === 0) continue;
      for (const m of pulled) {
        if (m.deliverySequence !== this.expectedDelivery) {
          this.log.info({ expected: this.expectedDelivery, got: m.deliverySequence }, 'delivery gap; recreating the consumer at its floor');
          return true;
        }
        this.expectedDelivery++;
      }
      const messages = this.decode(pulled.filter((m) => m.streamSequence > this.handledUpTo));
      if (messages.length > 0 && !(await this.deliver(messages, pulled, signal))) return false;
      const last = pulled.reduce((a, b) => (b.streamSequence > a.streamSequence ? b : a));
      this.handledUpTo = Math.max(this.handledUpTo, last.streamSequence);
      this.ctx.nc.publish(last.ackSubject, ACK);
      this.lastAcked = last.ackSubject;
    }
    return false;
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

  /** Hands the batch to the handler until it accepts it; false if stopped first. */
  private async deliver(messages: MessageEnvelope[], pulled: readonly PulledMessage[], signal: AbortSignal): Promise<boolean> {
    const batch = { channel: this.channel, partition: this.partition, messages };
    this.inHand = pulled;
    let failures = 0;
    try {
      for (;;) {
        if (signal.aborted) return false;
        try {
          await this.options.handler(batch);
          return true;
        } catch (error) {
          if (signal.aborted) return false;
          failures++;
          // A consumer that is stopping rejects with ClosedError just before we are stopped too.
          if (!isConcordError(error, 'CLOSED')) this.log.warn({ err: error, failures, messages: messages.length }, 'batch rejected by the handler; delivering it again');
          await systemClock.sleep(backoffDelay(defaultBackoff, failures), signal);
        }
      }
    } finally {
      this.inHand = undefined;
    }
  }
}
