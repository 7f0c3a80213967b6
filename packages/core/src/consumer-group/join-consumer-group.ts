import type { SubscribeOptions } from '../ports/broker.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { ConsumerGroupMember } from './consumer-group-member.js';
import type { LeaseTable, PartitionRef, PartitionSource } from './ports.js';

export interface JoinConsumerGroup<Token> {
  readonly memberId: string;
  readonly subscribe: SubscribeOptions;
  /** The partition count of a channel, as every member of the broker sees it. */
  readonly partitionsOf: (channel: string) => Promise<number>;
  readonly leases: LeaseTable<Token>;
  readonly source: PartitionSource;
  /** The broker's batch size, used when the subscription names none. */
  readonly maxBatchSize: number;
  readonly leaseMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * What a broker's `subscribe` does with the engine: lists every partition of the subscribed
 * channels, builds the member and starts it (a failed start cleans up after itself).
 */
export async function joinConsumerGroup<Token>(options: JoinConsumerGroup<Token>): Promise<ConsumerGroupMember<Token>> {
  const { subscribe } = options;
  const partitions: PartitionRef[] = [];
  for (const channel of subscribe.channels) {
    const n = await options.partitionsOf(channel);
    for (let partition = 0; partition < n; partition++) partitions.push({ channel, partition });
  }
  const member = new ConsumerGroupMember<Token>({
    memberId: options.memberId,
    group: subscribe.group,
    partitions,
    leases: options.leases,
    source: options.source,
    handler: subscribe.handler,
    maxBatchSize: subscribe.maxBatchSize ?? options.maxBatchSize,
    leaseMs: options.leaseMs,
    clock: options.clock,
    logger: options.logger,
  });
  await member.start();
  return member;
}
