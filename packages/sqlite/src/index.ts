export { type SqliteDatabase } from './sqlite-driver.js';
export { type SqliteBrokerOptions, type SqliteStoreOptions } from './sqlite-options.js';
export { openSqliteStore, type SqliteStore, type SqliteTransaction } from './sqlite-store.js';
export { openSqliteBroker, SqliteBroker } from './sqlite-broker.js';
