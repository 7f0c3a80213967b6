/**
 * The adapter SPI of @concord/postgres: the PostgreSQL parts that other adapters, tools, benchmarks
 * and tests build on (drivers, dialects, codecs, key and name layouts). Applications use
 * '@concord/postgres'; see ARCHITECTURE.md, "Adapters".
 */
export { postgresDialect, defaultPostgresDialect, quoteIdent } from './postgres-dialect.js';
export { openPostgresDriver } from './postgres-connect.js';
export { databaseNameOf, withDatabase } from './postgres-database.js';
export { checkLogicalReplication } from './postgres-errors.js';
export { PostgresDriver, type PostgresDriverOptions, type PostgresIsolationLevel } from './postgres-driver.js';
export type { PostgresNotification, PostgresPool, PostgresPoolClient, PostgresQueryResult } from './postgres-pool.js';
export { rewritePlaceholders } from './placeholders.js';
export { isConnectionError, isRetryableTransactionError } from './postgres-errors.js';
export { postgresShardLocks } from './shard-leases.js';
export { formatLsn, parseLsn } from './lsn.js';
