export { createMysqlDialect, mysqlDialect, quoteIdentifier, concordTableName, type MysqlFlavor } from './mysql-dialect.js';
export {
  MysqlDriver,
  changedRows,
  type MysqlDriverOptions,
  type MysqlIsolationLevel,
  type MysqlTransactionOptions,
} from './mysql-driver.js';
export {
  CONCORD_POOL_DEFAULTS,
  createMysqlPool,
  databaseFromUri,
  dropMysqlDatabase,
  ensureMysqlDatabase,
  type MysqlConnection,
  type MysqlPool,
  type MysqlQueryOptions,
  type MysqlResultHeader,
} from './mysql-pool.js';
export {
  MysqlBroker,
  inspectMysqlPool,
  openMysqlBroker,
  openMysqlDriver,
  openMysqlStore,
  type MysqlBrokerOptions,
  type MysqlConnectOptions,
  type MysqlServerInfo,
  type MysqlStore,
  type MysqlStoreOptions,
} from './mysql-store.js';
export {
  MysqlConfigError,
  MysqlConfigReason,
  MysqlErrno,
  isMysqlConfigError,
  isRetryableTransactionError,
  mysqlErrno,
} from './mysql-errors.js';
export { SessionLock, lockName } from './mysql-locks.js';
export { OutboxShardLeases, type OutboxShardLeaseOptions } from './outbox-shard-leases.js';
export { MysqlPollingRelay, type MysqlPollingRelayOptions } from './mysql-polling-relay.js';
export { MysqlBinlogRelay, type MysqlBinlogRelayOptions, type MysqlBinlogRelayStats } from './binlog/binlog-relay.js';
export { BinlogPositions, binlogRelayMigrations, BINLOG_RELAY_COMPONENT } from './binlog/binlog-positions.js';
export { currentBinlogEnd, verifyBinlogSettings, type BinlogPosition } from './binlog/binlog-settings.js';
export { createMysqlRelay, type MysqlRelayOptions } from './create-mysql-relay.js';
