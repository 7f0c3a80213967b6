import { newId } from '@concord/core';
import { ConsumerGroupMember, type PartitionRef, type SubscribeOptions } from '@concord/core/spi';
import type { RedisBroker } from './redis-broker.js';
import { RedisLeaseTable } from './redis-lease-table.js';
import { RedisPartitionSource } from './redis-partition-source.js';
import { assertGroup } from './names.js';

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
    const partitions: PartitionRef[] = [];
    for (const channel of this.options.channels) {
      const n = await this.broker.partitionsOf(channel);
      for (let partition = 0; partition < n; partition++) partitions.push({ channel, partition });
    }
    const { settings } = this.broker;
    this.member = new ConsumerGroupMember({
      memberId: this.memberId,
      group: this.options.group,
      partitions,
      leases: new RedisLeaseTable(this.broker, this.options.group),
      source: new RedisPartitionSource(this.broker, this.options.group, this.memberId),
      handler: this.options.handler,
      maxBatchSize: this.options.maxBatchSize ?? settings.maxBatchSize,
      leaseMs: settings.leaseMs,
      clock: settings.clock,
      logger: settings.logger,
    });
    await this.member.start();
  }

  async close(): Promise<void> {
    await this.member?.close();
  }
}
