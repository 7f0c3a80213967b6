import { SqlBroker } from '@concord/core';
import { migrateOrClose } from '@concord/core/spi';
import { openSqliteDriver } from './sqlite-connect.js';
import type { SqliteDriver } from './sqlite-driver.js';
import type { SqliteBrokerOptions } from './sqlite-options.js';

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
  const driver = openSqliteDriver(options);
  return migrateOrClose(new SqliteBroker(driver, options), () => driver.close());
}
