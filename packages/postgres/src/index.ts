export {
  CommitOutcomeUnknownError,
  ConnectionUnavailableError,
  PostgresErrorReason,
  PostgresStoreError,
  ReplicationSlotBusyError,
  isPostgresStoreError,
  LogicalReplicationOffError,
  checkLogicalReplication,
} from './postgres-errors.js';
export { databaseNameOf, dropPostgresDatabase, ensurePostgresDatabase, withDatabase } from './postgres-database.js';
export { PostgresBroker } from './postgres-broker.js';
export {
  PostgresStore,
  openPostgresBroker,
  openPostgresStore,
  type PostgresBrokerOptions,
  type PostgresConnectionConfig,
  type PostgresConnectionOptions,
  type PostgresStoreOptions,
  type PostgresTransaction,
} from './postgres-store.js';
export { PostgresPollingRelay, type PostgresPollingRelayOptions, type PostgresPollingRelayStats } from './polling-relay.js';
export { PostgresTailingRelay, type PostgresTailingRelayOptions, type PostgresTailingRelayStats } from './tailing-relay.js';
export { createPostgresRelay, type PostgresRelayOptions } from './create-relay.js';
export type { SlotStatus } from './replication-slot.js';
