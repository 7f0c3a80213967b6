export { type MysqlFlavor } from './mysql-dialect.js';
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
  type MysqlTransaction,
} from './mysql-store.js';
export { MysqlConfigError, MysqlConfigReason, isMysqlConfigError } from './mysql-errors.js';
export { SessionLock, lockName } from './mysql-locks.js';
export { MysqlPollingRelay, type MysqlPollingRelayOptions } from './mysql-polling-relay.js';
export { MysqlBinlogRelay, type MysqlBinlogRelayOptions, type MysqlBinlogRelayStats } from './binlog/binlog-relay.js';
export { BinlogPositions } from './binlog/binlog-positions.js';
export { currentBinlogEnd, verifyBinlogSettings, type BinlogPosition } from './binlog/binlog-settings.js';
export { createMysqlRelay, type MysqlRelayOptions } from './create-mysql-relay.js';
