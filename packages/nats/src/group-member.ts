import { newId, systemClock } from '@concord/core';
import { joinConsumerGroup, type ConsumerGroupMember, type SubscribeOptions } from '@concord/core/spi';
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
    const { ctx, options } = this;
    this.member = await joinConsumerGroup({
      memberId: this.memberId,
      subscribe: options,
      partitionsOf: (channel) => ctx.topology.partitionsOf(channel),
      leases: new NatsLeaseTable(ctx, options.group),
      source: this.source,
      maxBatchSize: ctx.settings.maxBatchSize,
      leaseMs: ctx.settings.leaseMs,
      // The leases bucket expires records on the server's clock; local time only bounds validity.
      clock: systemClock,
      logger: ctx.logger,
    });
  }

  /** After a reconnect, pull requests may be gone with the old server process. */
  requestAgain(): void {
    this.source.requestAgain();
  }

  async close(): Promise<void> {
    await this.member?.close();
  }
}
