export { type SqliteDatabase } from './sqlite-driver.js';
export {
  openSqliteBroker,
  openSqliteStore,
  SqliteBroker,
  type SqliteBrokerOptions,
  type SqliteStoreOptions,
  type SqliteTransaction,
} from './sqlite-store.js';
