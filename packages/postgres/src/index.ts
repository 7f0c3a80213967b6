export {
  CommitOutcomeUnknownError,
  ConnectionUnavailableError,
  PostgresErrorReason,
  PostgresStoreError,
  ReplicationSlotBusyError,
  isPostgresStoreError,
  LogicalReplicationOffError,
} from './postgres-errors.js';
export { dropPostgresDatabase, ensurePostgresDatabase } from './postgres-database.js';
export { type PostgresBrokerOptions, type PostgresConnectionOptions, type PostgresStoreOptions } from './postgres-options.js';
export { PostgresStore, openPostgresStore, type PostgresConnectionConfig, type PostgresTransaction } from './postgres-store.js';
export { PostgresBroker, openPostgresBroker } from './postgres-broker.js';
export { PostgresPollingRelay, type PostgresPollingRelayOptions, type PostgresPollingRelayStats } from './polling-relay.js';
export { PostgresTailingRelay, type PostgresTailingRelayOptions, type PostgresTailingRelayStats } from './tailing-relay.js';
export { createPostgresRelay, type PostgresRelayOptions } from './create-relay.js';
export type { SlotStatus } from './replication-slot.js';
