import type { GroupView, HeldLease, LeaseTable, PartitionRef, RenewResult } from '@concord/core/spi';
import type { RedisBroker } from './redis-broker.js';
import { heartbeatScript, releaseScript, renewScript } from './redis-script.js';

/**
 * The consumer-group lease table in Redis: a members ZSET scored by server time, and one key
 * per partition lease (SET NX PX) naming its owner. The owner is the fencing token (the fenced
 * read script checks it), so the engine's token is unused.
 */
export class RedisLeaseTable implements LeaseTable<true> {
  constructor(
    private readonly broker: RedisBroker,
    private readonly group: string,
  ) {}

  private leaseKey(p: PartitionRef): string {
    return this.broker.keys.lease(this.group, p.channel, p.partition);
  }

  async heartbeat(member: string): Promise<GroupView> {
    const { redis, keys, settings } = this.broker;
    const live = await heartbeatScript.run(redis, [keys.members(this.group)], [member, settings.leaseMs]);
    return { members: Math.max(1, Number(live)) };
  }

  async claim(member: string, p: PartitionRef): Promise<true | undefined> {
    const claimed = await this.broker.redis.call('SET', this.leaseKey(p), member, 'NX', 'PX', this.broker.settings.leaseMs);
    return claimed === null ? undefined : true;
  }

  /** One script for every lease; a lease key that vanished (a restarted Redis) is taken again. */
  async renew(member: string, held: ReadonlyArray<HeldLease<true>>): Promise<ReadonlyArray<RenewResult<true>>> {
    const keys = held.map((h) => this.leaseKey(h.partition));
    const renewed = (await renewScript.run(this.broker.redis, keys, [member, this.broker.settings.leaseMs])) as unknown[];
    return held.map((_, i) => (Number(renewed[i]) === 1 ? { token: true } : 'lost'));
  }

  async release(member: string, lease: HeldLease<true>): Promise<void> {
    await releaseScript.run(this.broker.redis, [this.leaseKey(lease.partition)], [member]);
  }

  async leave(member: string, held: ReadonlyArray<HeldLease<true>>): Promise<void> {
    for (const lease of held) await this.release(member, lease);
    await this.broker.redis.call('ZREM', this.broker.keys.members(this.group), member);
  }
}
