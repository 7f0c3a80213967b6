// Errors
export {
  ClosedError,
  ConcordAdapterError,
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
export { MessageVersions, upcastFrom, upcastPayload, type Upcaster, type UpcastResult } from './message/message-versions.js';

// Ports (what an adapter implements of them is in '@concord/core/spi')
export type { Broker } from './ports/broker.js';
export { systemClock, type Clock } from './ports/clock.js';
export type { Logger } from './ports/logger.js';
export type {
  DeadLetter,
  DeadLetterFilter,
  DeadLetterStore,
  OutboxLag,
  ParkedOutboxFilter,
  ParkedOutboxRow,
  ParkedOutboxStore,
  SavepointOptions,
  Store,
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
export { MessageConsumer, type HandlerOptions, type MessageConsumerOptions, type MessageHandler } from './consumer/message-consumer.js';
export { defaultBackoff, type BackoffPolicy } from './consumer/backoff.js';

// SQL: the store users hold, the database-as-broker, and migrations for a service's own tables.
// Drivers, dialects and SqlStore internals are the adapter SPI: '@concord/core/spi'.
export type { SqlDialect, SqlExecutor } from './sql/sql-driver.js';
export { writeLater } from './sql/sql-driver.js';
export { SqlStore } from './sql/sql-store.js';
export { SqlBroker, type SqlBrokerOptions } from './sql/sql-broker.js';
export { runMigrations, type Migration } from './sql/migrations.js';

// Retention
export { RetentionSweeper, type RetentionReport, type RetentionSweeperOptions, type RetentionTask } from './retention/retention-sweeper.js';
export { defaultStoreRetention, storeRetentionTask, type StoreRetentionPolicy } from './retention/store-retention.js';

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
