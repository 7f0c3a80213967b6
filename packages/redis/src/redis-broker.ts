import { ClosedError, InvalidArgumentError, type Broker, type MessageEnvelope } from '@concord/core';
import {
  PartitionWakers,
  type WakeSignal,
  partitionFor,
  type BrokerCapabilities,
  type SubscribeOptions,
  type Subscription,
  GroupSubscription,
  startTracked,
  type LeaseTable,
  type PartitionSource,
} from '@concord/core/spi';
import { envelopeFields } from './envelope-codec.js';
import type { RedisBrokerClient, RedisSubscriberClient } from './redis-client.js';
import { RedisCommandError, RedisUnexpectedReplyError } from './redis-errors.js';
import { RedisBrokerKeys } from './redis-keys.js';
import { connect, detectDurability } from './redis-connect.js';
import { RedisLeaseTable } from './redis-lease-table.js';
import { RedisPartitionSource } from './redis-partition-source.js';
import { assertChannel, assertGroup } from './redis-names.js';
import { resolveSettings, type RedisBrokerOptions, type RedisBrokerSettings } from './redis-options.js';

/**
 * The Broker port on Redis Streams: one stream per (channel, partition), Redis consumer
 * groups for the port's groups, partition leases so one member of a group reads a partition
 * at a time. Publishing notifies subscribers over Pub/Sub; a slow poll covers lost notices.
 */
export class RedisBroker implements Broker {
  readonly name = 'redis-streams';
  readonly keys: RedisBrokerKeys;
  private readonly channelPartitions = new Map<string, number>();
  private readonly wakers = new PartitionWakers();
  private readonly subscriptions = new Set<GroupSubscription<true>>();
  private notifier: RedisSubscriberClient | undefined;
  private readonly notifyChannels = new Set<string>();
  private closed = false;

  constructor(
    readonly redis: RedisBrokerClient,
    readonly settings: RedisBrokerSettings,
    readonly capabilities: BrokerCapabilities,
    private readonly ownsClient: boolean,
  ) {
    this.keys = new RedisBrokerKeys(settings.keyPrefix);
  }

  /** The partition count of `channel`, recording the configured count if it has none yet. */
  async partitionsOf(channel: string): Promise<number> {
    const known = this.channelPartitions.get(channel);
    if (known !== undefined) return known;
    assertChannel(channel);
    const pipeline = this.redis.pipeline();
    pipeline.call('HSETNX', this.keys.channels(), channel, this.settings.partitions);
    pipeline.call('HGET', this.keys.channels(), channel);
    const replies = await execPipeline(pipeline, 'HSETNX/HGET partitions');
    const count = Number(replies[1]);
    if (!Number.isInteger(count) || count < 1) {
      throw new RedisUnexpectedReplyError(`the partition count of channel ${channel}`, replies[1]);
    }
    this.channelPartitions.set(channel, count);
    return count;
  }

  async publish(messages: readonly MessageEnvelope[]): Promise<void> {
    if (this.closed) throw new ClosedError('redis broker');
    if (messages.length === 0) return;
    const counts = new Map<string, number>();
    for (const m of messages)
      if (!counts.has(m.channel)) counts.set(m.channel, await this.partitionsOf(m.channel));
    const pipeline = this.redis.pipeline();
    const touched = new Map<string, Set<number>>();
    for (const m of messages) {
      const partition = partitionFor(m.partitionKey, counts.get(m.channel)!);
      pipeline.call('XADD', this.keys.stream(m.channel, partition), '*', ...envelopeFields(m));
      let set = touched.get(m.channel);
      if (!set) touched.set(m.channel, (set = new Set()));
      set.add(partition);
    }
    for (const [channel, partitions] of touched) {
      // Re-asserting the count is free here and restores it after a Redis restart lost it.
      pipeline.call('HSETNX', this.keys.channels(), channel, counts.get(channel)!);
      pipeline.call('PUBLISH', this.keys.notify(channel), [...partitions].join(','));
    }
    await execPipeline(pipeline, 'XADD');
    for (const [channel, partitions] of touched) for (const p of partitions) this.wake(channel, p);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.closed) throw new ClosedError('redis broker');
    if (options.channels.length === 0)
      throw new InvalidArgumentError('subscribe: channels must not be empty');
    options.channels.forEach(assertChannel);
    assertGroup(options.group);
    return startTracked(this.subscriptions, new GroupSubscription<true>(this, options), () => this.listen(options.channels));
  }

  /** @internal A member's ports: lease keys and partition streams (GroupSubscription). */
  ports(group: string, memberId: string): { leases: LeaseTable<true>; source: PartitionSource } {
    return { leases: new RedisLeaseTable(this, group), source: new RedisPartitionSource(this, group, memberId) };
  }

  /** @internal A partition worker registers to be woken when its partition gets entries. */
  addWaker(channel: string, partition: number, signal: WakeSignal): () => void {
    return this.wakers.add(channel, partition, signal);
  }

  private wake(channel: string, partition: number): void {
    this.wakers.wake(channel, partition);
  }

  private async listen(channels: readonly string[]): Promise<void> {
    if (!this.notifier) {
      const notifier = this.redis.duplicate();
      this.notifier = notifier;
      notifier.on('error', (error) =>
        this.settings.logger.debug({ err: error }, 'redis notifier connection error'),
      );
      notifier.on('message', (topic, message) => {
        const channel = topic.slice(this.keys.notify('').length);
        for (const p of message.split(',')) this.wake(channel, Number(p));
      });
    }
    const fresh = channels.filter((c) => !this.notifyChannels.has(c));
    if (fresh.length === 0) return;
    // ioredis subscribes again by itself after a reconnect.
    try {
      await this.notifier.subscribe(...fresh.map((c) => this.keys.notify(c)));
    } catch (error) {
      throw new RedisCommandError('SUBSCRIBE', error);
    }
    for (const c of fresh) this.notifyChannels.add(c);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    this.subscriptions.clear();
    await this.notifier?.quit().catch(() => undefined);
    if (this.ownsClient) await this.redis.quit().catch(() => undefined);
  }
}

/** Runs a pipeline; the first failed command fails the whole call. */
export async function execPipeline(
  pipeline: { exec(): Promise<Array<[Error | null, unknown]> | null> },
  operation: string,
): Promise<unknown[]> {
  let results: Array<[Error | null, unknown]> | null;
  try {
    results = await pipeline.exec();
  } catch (error) {
    throw new RedisCommandError(operation, error);
  }
  if (!results) throw new RedisCommandError(operation, new Error('pipeline discarded'));
  const failed = results.find(([error]) => error);
  if (failed) throw new RedisCommandError(operation, failed[0]);
  return results.map(([, value]) => value);
}

/** Connects (or adopts `redis`), checks the server answers, and returns the broker. */
export async function openRedisBroker(options: RedisBrokerOptions): Promise<RedisBroker> {
  const settings = resolveSettings(options);
  const { redis, owned } = connect(options, 'concord-broker');
  try {
    const durable = options.durable ?? (await detectDurability(redis));
    return new RedisBroker(redis, settings, { partitionedConsumers: true, durable }, owned);
  } catch (error) {
    if (owned) await redis.quit().catch(() => undefined);
    throw error;
  }
}
