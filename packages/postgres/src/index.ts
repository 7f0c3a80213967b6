export { postgresDialect, defaultPostgresDialect, quoteIdent } from './postgres-dialect.js';
export { PostgresDriver, type PostgresDriverOptions, type PostgresIsolationLevel } from './postgres-driver.js';
export type { PostgresNotification, PostgresPool, PostgresPoolClient, PostgresQueryResult } from './postgres-pool.js';
export { rewritePlaceholders } from './placeholders.js';
export {
  CommitOutcomeUnknownError,
  ConnectionUnavailableError,
  PostgresErrorReason,
  PostgresStoreError,
  ReplicationSlotBusyError,
  isConnectionError,
  isPostgresStoreError,
  isRetryableTransactionError,
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
} from './postgres-store.js';
export { PostgresPollingRelay, type PostgresPollingRelayOptions, type PostgresPollingRelayStats } from './polling-relay.js';
export { ShardLeases } from './shard-leases.js';
export { PostgresTailingRelay, type PostgresTailingRelayOptions, type PostgresTailingRelayStats } from './tailing-relay.js';
export { createPostgresRelay, type PostgresRelayOptions } from './create-relay.js';
export type { SlotStatus } from './replication-slot.js';
export { formatLsn, parseLsn } from './lsn.js';
