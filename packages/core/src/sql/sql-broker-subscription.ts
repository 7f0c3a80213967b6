import { ConsumerGroupMember } from '../consumer-group/consumer-group-member.js';
import type { PartitionRef } from '../consumer-group/ports.js';
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
      leases: new SqlLeaseTable(this.broker, this.options.group),
      source: new SqlPartitionSource(this.broker, this.options.group, this.options.channels, this.memberId),
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
