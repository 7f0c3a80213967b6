import { SqlStore, type Transaction } from '@concord/core';
import { migrateOrClose } from '@concord/core/spi';
import { openSqliteDriver } from './sqlite-connect.js';
import type { SqliteDatabase, SqliteDriver } from './sqlite-driver.js';
import type { SqliteStoreOptions } from './sqlite-options.js';

/** A Concord store on SQLite: user code's transaction handle is the better-sqlite3 database. */
export type SqliteStore = SqlStore<SqliteDatabase> & { readonly driver: SqliteDriver };

/** A SQLite store's transaction: `tx.handle` is the better-sqlite3 database (a saga's `.transactionType<SqliteTransaction>()`). */
export type SqliteTransaction = Transaction<SqliteDatabase>;

/** Opens (creating when missing) a service's SQLite store and applies its migrations. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  const store = new SqlStore(openSqliteDriver(options), options) as SqliteStore;
  return migrateOrClose(store, () => store.close());
}
