import { newId } from '@concord/core';
import { joinConsumerGroup, type ConsumerGroupMember, type SubscribeOptions } from '@concord/core/spi';
import type { RedisBroker } from './redis-broker.js';
import { RedisLeaseTable } from './redis-lease-table.js';
import { RedisPartitionSource } from './redis-partition-source.js';
import { assertGroup } from './redis-names.js';

/**
 * One member of a consumer group on Redis: core's consumer-group engine over the lease keys
 * (`RedisLeaseTable`) and the partition streams (`RedisPartitionSource`).
 */
export class RedisBrokerSubscription {
  readonly memberId = newId();
  private member: ConsumerGroupMember<true> | undefined;

  constructor(
    private readonly broker: RedisBroker,
    private readonly options: SubscribeOptions,
  ) {
    assertGroup(options.group);
  }

  assignedPartitions(): string[] {
    return this.member?.assignedPartitions() ?? [];
  }

  async start(): Promise<void> {
    const { broker, options } = this;
    this.member = await joinConsumerGroup({
      memberId: this.memberId,
      subscribe: options,
      partitionsOf: (channel) => broker.partitionsOf(channel),
      leases: new RedisLeaseTable(broker, options.group),
      source: new RedisPartitionSource(broker, options.group, this.memberId),
      ...broker.settings,
    });
  }

  async close(): Promise<void> {
    await this.member?.close();
  }
}
