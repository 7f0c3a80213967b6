import { newId, systemClock } from '@concord/core';
import { ConsumerGroupMember, type PartitionRef, type SubscribeOptions } from '@concord/core/spi';
import type { BrokerContext } from './broker-context.js';
import { NatsLeaseTable } from './nats-lease-table.js';
import { NatsPartitionSource } from './nats-partition-source.js';

/**
 * One member of a consumer group on NATS: core's consumer-group engine over the leases bucket
 * (`NatsLeaseTable`) and the partitions' durable consumers (`NatsPartitionSource`).
 */
export class GroupMember {
  readonly memberId = newId();
  private readonly source: NatsPartitionSource;
  private member: ConsumerGroupMember<number> | undefined;

  constructor(
    private readonly ctx: BrokerContext,
    private readonly options: SubscribeOptions,
  ) {
    this.source = new NatsPartitionSource(ctx, options);
  }

  assignedPartitions(): string[] {
    return this.member?.assignedPartitions() ?? [];
  }

  async start(): Promise<void> {
    const partitions: PartitionRef[] = [];
    for (const channel of this.options.channels) {
      const n = await this.ctx.topology.partitionsOf(channel);
      for (let partition = 0; partition < n; partition++) partitions.push({ channel, partition });
    }
    const { settings } = this.ctx;
    this.member = new ConsumerGroupMember({
      memberId: this.memberId,
      group: this.options.group,
      partitions,
      leases: new NatsLeaseTable(this.ctx, this.options.group),
      source: this.source,
      handler: this.options.handler,
      maxBatchSize: Math.min(this.options.maxBatchSize ?? settings.maxBatchSize, settings.maxBatchSize),
      leaseMs: settings.leaseMs,
      // The leases bucket expires records on the server's clock; local time only bounds validity.
      clock: systemClock,
      logger: this.ctx.logger,
    });
    await this.member.start();
  }

  /** After a reconnect, pull requests may be gone with the old server process. */
  requestAgain(): void {
    this.source.requestAgain();
  }

  async close(): Promise<void> {
    await this.member?.close();
  }
}
