import type { MessageEnvelope } from '../message/envelope.js';

export interface BrokerCapabilities {
  /** Several instances of one group share a channel's partitions, each owned by one at a time. */
  readonly partitionedConsumers: boolean;
  /** Messages survive a broker restart once `publish` resolved. */
  readonly durable: boolean;
  /**
   * How many relay rounds should publish at once (`OutboxRelayOptions.roundsInFlight`): above 1
   * for a broker whose `publish` resolves slowly compared with a database read. Default 1.
   */
  readonly relayRoundsInFlight?: number;
}

/** One partition's worth of messages, in order. */
export interface DeliveryBatch {
  readonly channel: string;
  readonly partition: number;
  readonly messages: readonly MessageEnvelope[];
}

export interface SubscribeOptions {
  /** Consumer group: each group sees every message of its channels once (at least once). */
  readonly group: string;
  readonly channels: readonly string[];
  /**
   * Called serially per (channel, partition), concurrently across partitions. Resolving
   * acknowledges the whole batch; rejecting hands it back for redelivery.
   */
  readonly handler: (batch: DeliveryBatch) => Promise<void>;
  readonly maxBatchSize?: number;
}

export interface Subscription {
  /** Partitions this instance owns right now, as `channel/partition`. */
  assignedPartitions(): string[];
  /** Stops taking new batches, waits for the ones in flight, releases its partitions. */
  close(): Promise<void>;
}

/**
 * The broker port. Delivery is at least once; order is kept per partition key because a key
 * always maps to one partition and a partition has one consumer per group at a time.
 */
export interface Broker {
  readonly name: string;
  readonly capabilities: BrokerCapabilities;
  /**
   * Resolves only once the broker has durably accepted every message. Messages with the same
   * partition key are stored in array order. On rejection, any prefix may have been stored:
   * the caller republishes (consumers deduplicate by id).
   */
  publish(messages: readonly MessageEnvelope[]): Promise<void>;
  /** Resolves when the broker answers a trivial request; for readiness checks. Optional. */
  ping?(): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  close(): Promise<void>;
}
