export { sqliteDialect } from './sqlite-dialect.js';
export { SqliteDriver, type SqliteDatabase, type SqliteDriverOptions } from './sqlite-driver.js';
export { openSqliteBroker, openSqliteStore, SqliteBroker, type SqliteBrokerOptions, type SqliteStoreOptions } from './sqlite-store.js';
