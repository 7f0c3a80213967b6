import type { ConsumerGroupMember } from '../consumer-group/consumer-group-member.js';
import { joinConsumerGroup } from '../consumer-group/join-consumer-group.js';
import { newId } from '../ids.js';
import type { SubscribeOptions } from '../ports/broker.js';
import type { SqlBroker } from './sql-broker.js';
import { SqlLeaseTable } from './sql-lease-table.js';
import { SqlPartitionSource } from './sql-partition-source.js';

/**
 * One member of a consumer group on the SQL broker: core's consumer-group engine over the
 * broker's lease table (`SqlLeaseTable`) and partitions (`SqlPartitionSource`).
 */
export class SqlBrokerSubscription {
  readonly memberId = newId();
  private member: ConsumerGroupMember<true> | undefined;

  constructor(
    private readonly broker: SqlBroker,
    private readonly options: SubscribeOptions,
  ) {}

  get group(): string {
    return this.options.group;
  }

  /** A rebuild began or ended: look at the group now rather than at the next tick. */
  rebalanceSoon(): void {
    this.member?.rebalanceSoon();
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
      leases: new SqlLeaseTable(broker, options.group),
      source: new SqlPartitionSource(broker, options.group, options.channels, this.memberId),
      ...broker.settings,
    });
  }

  async close(): Promise<void> {
    await this.member?.close();
  }
}
