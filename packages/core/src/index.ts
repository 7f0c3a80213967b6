// Errors
export {
  ClosedError,
  ConcordError,
  ConcordErrorCode,
  ConcurrencyConflictError,
  IllegalStateError,
  SagaActionNotAllowedError,
  InvalidArgumentError,
  InvalidPayloadError,
  MessageRejectedError,
  RebuildInProgressError,
  UndecodableMessageError,
  NotFoundError,
  isConcordError,
  type PayloadIssue,
} from './errors.js';

// Messages
export { newId } from './ids.js';
export { validatePayload, type SchemaInput, type SchemaOutput, type StandardSchemaV1 } from './schema.js';
export { MessageHeader, type MessageEnvelope } from './message/envelope.js';
export {
  defineEvent,
  defineMessage,
  type MessageDefinition,
  type MessageDefinitionOptions,
  type MessageKind,
  type PayloadInputOf,
  type PayloadOf,
} from './message/message-definition.js';
export { hashPartitionKey, partitionFor } from './message/partition.js';
export { MessageVersions, upcastFrom, upcastPayload, type Upcaster, type UpcastResult } from './message/message-versions.js';

// Ports
export type { Broker, BrokerCapabilities, DeliveryBatch, SubscribeOptions, Subscription } from './ports/broker.js';
export { systemClock, type Clock } from './ports/clock.js';
export type { Logger } from './ports/logger.js';
export type {
  DeadLetter,
  DeadLetterFilter,
  DeadLetterStore,
  InboxOps,
  NewDeadLetter,
  OutboxLag,
  OutboxReader,
  OutboxRecord,
  ParkedOutboxFilter,
  ParkedOutboxRow,
  ParkedOutboxStore,
  Store,
  StoreCapabilities,
  StoreTransaction,
  Transaction,
  TransactionOptions,
} from './ports/store.js';
export {
  combineInstrumentation,
  noInstrumentation,
  type ConsumerBatchSignal,
  type Instrumentation,
  type MessageFailureSignal,
  type RelaySignal,
  type SagaSignal,
} from './ports/instrumentation.js';
export { createLogger, defaultLogger, silentLogger } from './logging.js';

// Outbox and consumers
export type { OutboxWriter, SendOptions } from './outbox/outbox-writer.js';
export type { Relay } from './outbox/relay.js';
export { OutboxRelay, type OutboxRelayOptions, type OutboxRelayStats } from './outbox/outbox-relay.js';
export { MessageConsumer, type MessageConsumerOptions, type MessageHandler } from './consumer/message-consumer.js';
export { backoffDelay, defaultBackoff, type BackoffPolicy } from './consumer/backoff.js';

// SQL layer (the SPI adapter packages build on)
export type { SqlColumnTypes, SqlDialect, ListenOptions, SqlDriver, SqlExecutor, SqlTransactionOptions } from './sql/sql-driver.js';
export { SqlStore, SqlStoreTransaction, MESSAGE_HEADER_REPLAY_FOR, OUTBOX_TOPIC, type SqlStoreOptions } from './sql/sql-store.js';
export { SqlBroker, BROKER_TOPIC, type SqlBrokerOptions, type SqlBrokerSettings } from './sql/sql-broker.js';
export { runMigrations, appliedMigrations, type Migration } from './sql/migrations.js';
export { storeMigrations, OUTBOX_SHARDS } from './sql/store-schema.js';
export { brokerMigrations } from './sql/broker-schema.js';
export { ENVELOPE_COLUMNS, envelopeFromRow, envelopeValues, valuesPlaceholders, type EnvelopeRow } from './sql/envelope-row.js';
export { SqlParkedOutbox } from './sql/parked-outbox.js';
export { decodeEnvelopeRow } from './sql/envelope-row.js';
export { WakeSignal } from './util/wake-signal.js';

// Retention
export { RetentionSweeper, type RetentionReport, type RetentionSweeperOptions, type RetentionTask } from './retention/retention-sweeper.js';
export { defaultStoreRetention, storeRetentionTask, type StoreRetentionPolicy } from './retention/store-retention.js';
export { PartitionWakers } from './util/partition-wakers.js';

// Sagas
export * from './saga/index.js';

// Isolation countermeasures (seed 003): semantic locks, deadlock detection and the others
export * from './isolation/index.js';
// Remote calls: intents with caller-assigned keys (client half), idempotency keys (server half)
export * from './remote-call/index.js';
export { IdempotencyKeys, IdempotencyKeyReusedError, type IdempotencyKeysOptions, type IdempotentResult } from './idempotency/idempotency-keys.js';
export { canonicalJson, requestFingerprint } from './idempotency/request-fingerprint.js';
// Durable timers and TCC reservations
export * from './timers/index.js';
export * from './reservations/index.js';
