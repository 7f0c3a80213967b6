/**
 * The adapter SPI: what a package that brings a database or a broker to Concord builds on.
 * Application code needs none of it; its API is '@concord/core'. Conformance suites every
 * adapter runs are in '@concord/core/testing'. See ARCHITECTURE.md, "Adapters".
 */

// Ports an adapter implements, with the types only an implementer meets
export type { BrokerCapabilities, DeliveryBatch, SubscribeOptions, Subscription } from './ports/broker.js';
export type {
  InboxOps,
  NewDeadLetter,
  OutboxReader,
  OutboxRecord,
  StoreCapabilities,
  StoreTransaction,
} from './ports/store.js';
export type { SagaStore } from './saga/saga-store.js';

// The SQL layer: one Store and one Broker for every SQL database, over a driver and a dialect
export type { SqlColumnTypes, SqlDialect, ListenOptions, SqlDriver, SqlExecutor, SqlTransactionOptions } from './sql/sql-driver.js';
export { writeLater } from './sql/sql-driver.js';
export { SqlStore, SqlStoreTransaction, MESSAGE_HEADER_REPLAY_FOR, OUTBOX_TOPIC, type SqlStoreOptions } from './sql/sql-store.js';
export { SqlBroker, BROKER_TOPIC, type SqlBrokerOptions, type SqlBrokerSettings } from './sql/sql-broker.js';
export { runMigrations, appliedMigrations, migrateOrClose, type Migration } from './sql/migrations.js';
export { storeMigrations, OUTBOX_SHARDS } from './sql/store-schema.js';
export { brokerMigrations } from './sql/broker-schema.js';
export { sagaMigrations } from './saga/saga-schema.js';
// The migration sets of core's modules, for tools that apply or inspect them one by one
export { isolationMigrations, sagaExtensionMigrations } from './isolation/isolation-schema.js';
export { timerMigrations } from './timers/timer-schema.js';
export { reservationMigrations } from './reservations/reservation-schema.js';
// Storage and state machines behind public classes, for tools and tests that reach below them
export { TimerRepository, type ClaimedTimer, type NewTimer } from './timers/timer-repository.js';
export {
  DONE_STATE,
  FAILED_STATE,
  PENDING_STATES,
  REQUESTED_STATE,
  isPending,
  onOutcome,
  onRequest,
  operationOf,
  type RequestTransition,
} from './remote-call/remote-call-state.js';
export { findWaitCycles, type WaitCycle, type WaitEdge } from './isolation/waits-for-graph.js';
// Retry delays, for adapters that retry on their own (connections, transactions)
export { backoffDelay } from './consumer/backoff.js';
export {
  ENVELOPE_COLUMNS,
  decodeEnvelopeRow,
  envelopeFromRow,
  envelopeValues,
  valuesPlaceholders,
  type EnvelopeRow,
} from './sql/envelope-row.js';
export { SqlParkedOutbox } from './sql/parked-outbox.js';

// The polling relay's seams: a database brings its read of the outbox and its shard locks
export type { OutboxRelayPorts } from './outbox/outbox-relay.js';
export {
  decodeOutboxRows,
  storeOutboxSource,
  type OutboxRead,
  type OutboxReadRequest,
  type OutboxRow,
  type OutboxSource,
  type UndecodableOutboxRow,
} from './outbox/outbox-source.js';
export { sqlOutboxSource } from './sql/sql-outbox-source.js';
export { lanesByShard } from './outbox/outbox-lanes.js';
export { publishOrPark, type PublishedOrParked } from './outbox/publish-or-park.js';
export {
  ShardLeases,
  type ShardLeaseOptions,
  type ShardLockPort,
  type ShardLockSession,
  type ShardMembership,
} from './outbox/shard-leases.js';
export { InProcessShardLocks } from './outbox/in-process-shard-locks.js';

// Helpers broker adapters share: partitioning, wake-ups
export { hashPartitionKey, partitionFor } from './message/partition.js';
export { WakeSignal } from './util/wake-signal.js';
export { PartitionWakers } from './util/partition-wakers.js';

// The consumer-group engine: brokers supply a lease table and a partition source (I/O only);
// membership, fair-share rebalance, the partition loop and fencing are the engine's.
export type {
  GroupView,
  HeldLease,
  LeaseTable,
  OpenPartition,
  PartitionBatch,
  PartitionReader,
  PartitionRef,
  PartitionSource,
  ReadOutcome,
  RenewResult,
} from './consumer-group/ports.js';
export { partitionName } from './consumer-group/ports.js';
export { planRebalance, type RebalancePlan } from './consumer-group/fair-share.js';
export { ConsumerGroupMember, type ConsumerGroupMemberOptions } from './consumer-group/consumer-group-member.js';
export { joinConsumerGroup, type JoinConsumerGroup } from './consumer-group/join-consumer-group.js';
export { GroupSubscription, startTracked, type GroupSubscriptionBroker } from './consumer-group/group-subscription.js';
export { BackgroundLoop } from './util/background-loop.js';
