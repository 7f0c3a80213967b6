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
export { type MysqlBrokerOptions, type MysqlConnectionOptions, type MysqlStoreOptions } from './mysql-options.js';
export { openMysqlStore, type MysqlStore } from './mysql-store.js';
export { MysqlBroker, openMysqlBroker } from './mysql-broker.js';
export { MysqlConfigError, MysqlConfigReason, isMysqlConfigError } from './mysql-errors.js';
export { SessionLock, lockName } from './mysql-locks.js';
export { MysqlPollingRelay, type MysqlPollingRelayOptions } from './mysql-polling-relay.js';
export { MysqlBinlogRelay, type MysqlBinlogRelayOptions, type MysqlBinlogRelayStats } from './binlog/binlog-relay.js';
export { type BinlogPosition } from './binlog/binlog-settings.js';
export { createMysqlRelay, type MysqlRelayOptions } from './create-mysql-relay.js';
