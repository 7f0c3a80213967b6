/**
 * The adapter SPI of @concord/mysql: the MySQL/MariaDB parts that other adapters, tools, benchmarks
 * and tests build on (drivers, dialects, codecs, key and name layouts). Applications use
 * '@concord/mysql'; see ARCHITECTURE.md, "Adapters".
 */
export { createMysqlDialect, mysqlDialect, quoteIdentifier, concordTableName } from './mysql-dialect.js';
export { CONCORD_POOL_DEFAULTS, databaseFromUri, type MysqlQueryOptions, type MysqlResultHeader } from './mysql-pool.js';
export { inspectMysqlPool, openMysqlDriver, type MysqlServerInfo } from './mysql-connect.js';
export { BinlogPositions } from './binlog/binlog-positions.js';
export { currentBinlogEnd, verifyBinlogSettings } from './binlog/binlog-settings.js';
export {
  MysqlDriver,
  changedRows,
  type MysqlDriverOptions,
  type MysqlIsolationLevel,
  type MysqlTransactionOptions,
} from './mysql-driver.js';
export { MysqlErrno, isRetryableTransactionError, mysqlErrno } from './mysql-errors.js';
export { mysqlShardLocks, type OutboxShardLeaseOptions } from './outbox-shard-leases.js';
export { binlogRelayMigrations, BINLOG_RELAY_COMPONENT } from './binlog/binlog-positions.js';
