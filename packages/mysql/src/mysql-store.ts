import type { PoolConnection } from 'mysql2/promise';
import { SqlStore, type Transaction } from '@concord/core';
import { migrateOrClose } from '@concord/core/spi';
import { openMysqlDriver } from './mysql-connect.js';
import type { MysqlDriver } from './mysql-driver.js';
import type { MysqlStoreOptions } from './mysql-options.js';
import type { MysqlConnection } from './mysql-pool.js';

/** A Concord store on MySQL/MariaDB: user code's transaction handle is the mysql2 connection. */
export type MysqlStore<C extends MysqlConnection = PoolConnection> = SqlStore<C> & { readonly driver: MysqlDriver<C> };

/** A MySQL store's transaction: `tx.handle` is the mysql2 connection (a saga's `.transactionType<MysqlTransaction>()`). */
export type MysqlTransaction<C extends MysqlConnection = PoolConnection> = Transaction<C>;

/**
 * Opens a service's store on MySQL 8 / MariaDB 10.6+ and applies its migrations. With
 * `createDatabase`, the connection string's database is created when missing (one database per service).
 */
export async function openMysqlStore<C extends MysqlConnection = PoolConnection>(options: MysqlStoreOptions<C>): Promise<MysqlStore<C>> {
  const store = new SqlStore<C>(await openMysqlDriver(options), options) as MysqlStore<C>;
  return migrateOrClose(store, () => store.close());
}
