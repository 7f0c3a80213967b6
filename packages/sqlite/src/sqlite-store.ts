import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { SqlBroker, SqlStore, type SqlBrokerOptions, type Transaction } from '@concord/core';
import { type SqlStoreOptions } from '@concord/core/spi';
import { SqliteDriver, type SqliteDatabase, type SqliteDriverOptions } from './sqlite-driver.js';

export type SqliteStoreOptions = SqliteDriverOptions & SqlStoreOptions;

/** A SQLite store's transaction: `tx.handle` is the better-sqlite3 database (a saga's `.transactionType<SqliteTransaction>()`). */
export type SqliteTransaction = Transaction<SqliteDatabase>;

function ensureDirectory(filename: string): void {
  if (filename !== ':memory:' && !filename.startsWith('file:')) mkdirSync(dirname(filename), { recursive: true });
}

/** Opens (creating when missing) a service's SQLite store and applies its migrations. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqlStore<SqliteDatabase>> {
  ensureDirectory(options.filename);
  const store = new SqlStore(new SqliteDriver(options), options);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

export type SqliteBrokerOptions = SqliteDriverOptions & SqlBrokerOptions;

/** The in-database broker on its own SQLite file; `close()` also closes that file. */
export class SqliteBroker extends SqlBroker {
  declare readonly driver: SqliteDriver;

  override async close(): Promise<void> {
    await super.close();
    await this.driver.close();
  }
}

/**
 * Opens the in-database broker on its own SQLite file, shared by the services of one
 * machine (SQLite's WAL lets several processes use it).
 */
export async function openSqliteBroker(options: SqliteBrokerOptions): Promise<SqliteBroker> {
  ensureDirectory(options.filename);
  const driver = new SqliteDriver(options);
  const broker = new SqliteBroker(driver, options);
  try {
    await broker.migrate();
  } catch (error) {
    await driver.close();
    throw error;
  }
  return broker;
}
