/**
 * The adapter SPI of @concord/sqlite: the SQLite parts that other adapters, tools, benchmarks
 * and tests build on (drivers, dialects, codecs, key and name layouts). Applications use
 * '@concord/sqlite'; see ARCHITECTURE.md, "Adapters".
 */
export { sqliteDialect } from './sqlite-dialect.js';
export { SqliteDriver, type SqliteDriverOptions } from './sqlite-driver.js';
export { openSqliteDriver } from './sqlite-connect.js';
