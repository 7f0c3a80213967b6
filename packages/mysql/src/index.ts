export { createMysqlDialect, mysqlDialect, quoteIdentifier, concordTableName, type MysqlFlavor } from './mysql-dialect.js';
export {
  MysqlDriver,
  changedRows,
  type MysqlDriverOptions,
  type MysqlIsolationLevel,
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
export { lockName } from './mysql-locks.js';
