import { newId } from '@concord/core';
import { type SubscribeOptions } from '@concord/core/spi';
import { isReplyError } from './redis-client.js';
import { execPipeline, type RedisBroker } from './redis-broker.js';
import { RedisPartitionConsumer } from './redis-partition-consumer.js';
import { heartbeatScript, releaseScript, renewScript } from './redis-script.js';
import { assertGroup } from './redis-names.js';

/**
 * One member of a consumer group, like SqlBroker's: a heartbeat in the group's members set,
 * its fair share of partition leases, and one worker per partition it holds. A partition it
 * gives up is released only after its worker finished and acknowledged its batch.
 */
export class RedisBrokerSubscription {
  readonly memberId = newId();
  private readonly workers = new Map<string, RedisPartitionConsumer>();
  private all: Array<[string, number]> = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private rebalancing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly broker: RedisBroker,
    private readonly options: SubscribeOptions,
  ) {
    assertGroup(options.group);
  }

  assignedPartitions(): string[] {
    return [...this.workers.keys()].sort();
  }

  async start(): Promise<void> {
    const all: Array<[string, number]> = [];
    for (const channel of this.options.channels) {
      const n = await this.broker.partitionsOf(channel);
      for (let p = 0; p < n; p++) all.push([channel, p]);
    }
    this.all = all;
    await this.ensureGroups(all);
    // Chained like the timer's rounds, so close() waits for this one too.
    this.rebalancing = this.rebalance();
    await this.rebalancing;
    const every = Math.max(50, Math.floor(this.broker.settings.leaseMs / 3));
    this.timer = setInterval(() => {
      this.rebalancing = this.rebalancing
        .then(() => this.rebalance())
        .catch((error: unknown) => {
          this.broker.settings.logger.warn(
            { err: error, group: this.options.group },
            'partition rebalance failed',
          );
        });
    }, every);
  }

  /** Creates the group on each partition stream at id 0, so earlier messages are delivered too. */
  async ensureGroups(partitions: ReadonlyArray<readonly [string, number]>): Promise<void> {
    const pipeline = this.broker.redis.pipeline();
    for (const [channel, p] of partitions) {
      pipeline.call(
        'XGROUP',
        'CREATE',
        this.broker.keys.stream(channel, p),
        this.options.group,
        '0',
        'MKSTREAM',
      );
    }
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error && !isReplyError(error, 'BUSYGROUP'));
    if (failed) await execPipeline({ exec: async () => [failed] }, 'XGROUP CREATE');
  }

  private leaseKey(channel: string, partition: number): string {
    return this.broker.keys.lease(this.options.group, channel, partition);
  }

  private async rebalance(): Promise<void> {
    if (this.closed) return;
    const { redis, keys, settings } = this.broker;
    const { leaseMs } = settings;
    const live = Math.max(
      1,
      Number(await heartbeatScript.run(redis, [keys.members(this.options.group)], [this.memberId, leaseMs])),
    );

    // Renew what we hold; drop workers whose lease someone else now has, or that saw so.
    const held = [...this.workers.entries()];
    if (held.length > 0) {
      const renewed = (await renewScript.run(
        redis,
        held.map(([, w]) => this.leaseKey(w.channel, w.partition)),
        [this.memberId, leaseMs],
      )) as number[];
      for (const [i, [key, worker]] of held.entries()) {
        if (Number(renewed[i]) === 1 && !worker.lost) continue;
        this.workers.delete(key);
        await worker.stop();
        settings.logger.info({ group: this.options.group, partition: key }, 'partition lease lost');
      }
    }

    const fairShare = Math.ceil(this.all.length / live);
    // Over our share: the worker finishes and acknowledges its batch before the lease goes.
    for (const key of [...this.workers.keys()].slice(fairShare)) {
      const worker = this.workers.get(key)!;
      this.workers.delete(key);
      await worker.stop();
      await releaseScript.run(redis, [this.leaseKey(worker.channel, worker.partition)], [this.memberId]);
    }

    if (this.workers.size >= fairShare || this.closed) return;
    const start = this.memberId.charCodeAt(this.memberId.length - 1) % this.all.length;
    const candidates = [...this.all.slice(start), ...this.all.slice(0, start)];
    for (const [channel, partition] of candidates) {
      if (this.workers.size >= fairShare || this.closed) break;
      const key = `${channel}/${partition}`;
      if (this.workers.has(key)) continue;
      const claimed = await redis.call(
        'SET',
        this.leaseKey(channel, partition),
        this.memberId,
        'NX',
        'PX',
        leaseMs,
      );
      if (claimed === null) continue;
      const worker = new RedisPartitionConsumer(this.broker, this.options, this, channel, partition);
      this.workers.set(key, worker);
      worker.start();
    }
  }

  /** @internal Lets a worker re-create this group when Redis lost it (a restart). */
  recreateGroup(channel: string, partition: number): Promise<void> {
    return this.ensureGroups([[channel, partition]]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.rebalancing;
    const workers = [...this.workers.values()];
    this.workers.clear();
    await Promise.all(workers.map((w) => w.stop()));
    const { redis, keys, settings } = this.broker;
    try {
      for (const w of workers)
        await releaseScript.run(redis, [this.leaseKey(w.channel, w.partition)], [this.memberId]);
      await redis.call('ZREM', keys.members(this.options.group), this.memberId);
    } catch (error) {
      settings.logger.warn({ err: error, group: this.options.group }, 'could not release partition leases');
    }
  }
}
