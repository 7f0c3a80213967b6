import { newId } from '../ids.js';
import type { SubscribeOptions, Subscription } from '../ports/broker.js';
import type { ConsumerGroupMember } from './consumer-group-member.js';
import { joinConsumerGroup, type JoinConsumerGroup } from './join-consumer-group.js';
import type { LeaseTable, PartitionSource } from './ports.js';

/** What a broker gives each member: its partitions, its settings, and a lease table and source of the member's own. */
export interface GroupSubscriptionBroker<Token> {
  partitionsOf(channel: string): Promise<number>;
  readonly settings: Pick<JoinConsumerGroup<Token>, 'maxBatchSize' | 'leaseMs' | 'clock' | 'logger'>;
  ports(group: string, memberId: string, options: SubscribeOptions): { leases: LeaseTable<Token>; source: PartitionSource };
}

/**
 * One member of a consumer group on a broker that runs core's engine (the SQL broker, Redis):
 * the broker supplies the ports, this joins the group and keeps the member.
 */
export class GroupSubscription<Token> {
  readonly memberId = newId();
  private member: ConsumerGroupMember<Token> | undefined;

  constructor(
    private readonly broker: GroupSubscriptionBroker<Token>,
    readonly options: SubscribeOptions,
  ) {}

  get group(): string {
    return this.options.group;
  }

  /** Look at the group now rather than at the next tick (a rebuild began or ended). */
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
      ...broker.ports(options.group, this.memberId, options),
      ...broker.settings,
    });
  }

  async close(): Promise<void> {
    await this.member?.close();
  }
}

/**
 * Starts `subscription` and keeps it in `live` while it runs: the `Subscription` a broker's
 * `subscribe` returns. A failed start leaves nothing behind.
 */
export async function startTracked<T extends { start(): Promise<void>; close(): Promise<void>; assignedPartitions(): string[] }>(
  live: Set<T>,
  subscription: T,
  before?: () => Promise<void>,
): Promise<Subscription> {
  live.add(subscription);
  try {
    await before?.();
    await subscription.start();
  } catch (error) {
    live.delete(subscription);
    // The member cleans up after a failed start itself; closing again is harmless.
    await subscription.close();
    throw error;
  }
  return {
    assignedPartitions: () => subscription.assignedPartitions(),
    close: async () => {
      live.delete(subscription);
      await subscription.close();
    },
  };
}
