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
export { runMigrations, appliedMigrations, type Migration } from './sql/migrations.js';
export { storeMigrations, OUTBOX_SHARDS } from './sql/store-schema.js';
export { brokerMigrations } from './sql/broker-schema.js';
export { sagaMigrations } from './saga/saga-schema.js';
export {
  ENVELOPE_COLUMNS,
  decodeEnvelopeRow,
  envelopeFromRow,
  envelopeValues,
  valuesPlaceholders,
  type EnvelopeRow,
} from './sql/envelope-row.js';
export { SqlParkedOutbox } from './sql/parked-outbox.js';

// Helpers broker adapters share: partitioning, wake-ups
export { hashPartitionKey, partitionFor } from './message/partition.js';
export { WakeSignal } from './util/wake-signal.js';
export { PartitionWakers } from './util/partition-wakers.js';
