import type { Pool, PoolConnection, PoolOptions } from 'mysql2/promise';
import { SqlBroker, SqlStore, type Logger, type SqlBrokerOptions, type Transaction } from '@concord/core';
import { type SqlStoreOptions } from '@concord/core/spi';
import type { MysqlFlavor } from './mysql-dialect.js';
import { MysqlDriver, queryRows, runQuery, changedRows, type MysqlDriverOptions } from './mysql-driver.js';
import { MysqlConfigError, MysqlConfigReason } from './mysql-errors.js';
import { createMysqlPool, databaseFromUri, ensureMysqlDatabase, type MysqlConnection, type MysqlPool, type MysqlResultHeader } from './mysql-pool.js';

export interface MysqlConnectOptions<C extends MysqlConnection = PoolConnection> {
  /** `mysql://user:password@host:3306/database`: the service's own database. */
  readonly uri?: string;
  /** An existing mysql2/promise pool (made with `createMysqlPool`, or with `flags: ['-FOUND_ROWS']`). */
  readonly pool?: MysqlPool<C>;
  /** Create the URI's database when it does not exist. Default false. */
  readonly createDatabase?: boolean;
  /** Extra mysql2 pool options when Concord makes the pool from `uri` (connectionLimit...). */
  readonly poolOptions?: PoolOptions;
  readonly logger?: Logger;
}

type DriverTuning = Pick<MysqlDriverOptions, 'isolationLevel' | 'maxTransactionAttempts' | 'migrationLockTimeoutSeconds' | 'clock'>;

export type MysqlStoreOptions<C extends MysqlConnection = PoolConnection> = MysqlConnectOptions<C> & SqlStoreOptions & DriverTuning;
export type MysqlBrokerOptions<C extends MysqlConnection = PoolConnection> = MysqlConnectOptions<C> & SqlBrokerOptions & DriverTuning;

/** A Concord store on MySQL/MariaDB: user code's transaction handle is the mysql2 connection. */
export type MysqlStore<C extends MysqlConnection = PoolConnection> = SqlStore<C> & { readonly driver: MysqlDriver<C> };

/** A MySQL store's transaction: `tx.handle` is the mysql2 connection (a saga's `.transactionType<MysqlTransaction>()`). */
export type MysqlTransaction<C extends MysqlConnection = PoolConnection> = Transaction<C>;

export interface MysqlServerInfo {
  readonly version: string;
  readonly flavor: MysqlFlavor;
  readonly database: string;
}

/**
 * Checks what the driver relies on: a selected database, and connections that count changed
 * rows (no CLIENT_FOUND_ROWS), so an inbox insert of a duplicate reports 0.
 */
export async function inspectMysqlPool(pool: MysqlPool<MysqlConnection>): Promise<MysqlServerInfo> {
  const conn = await pool.getConnection();
  try {
    const [info] = await queryRows<{ version: string; db: string | null }>(conn, 'SELECT VERSION() AS version, DATABASE() AS db');
    if (!info?.db) {
      throw new MysqlConfigError(MysqlConfigReason.NO_DATABASE, 'the pool has no default database: name one in the URI (mysql://host/db)');
    }
    // Temporary tables are per connection and never reach a row-based binary log.
    await runQuery(conn, 'CREATE TEMPORARY TABLE concord_found_rows_probe (k INT NOT NULL PRIMARY KEY)');
    try {
      const sql = 'INSERT INTO concord_found_rows_probe (k) VALUES (1) ON DUPLICATE KEY UPDATE k = k';
      await runQuery(conn, sql);
      const again = changedRows((await runQuery(conn, sql)) as MysqlResultHeader);
      if (again !== 0) {
        throw new MysqlConfigError(
          MysqlConfigReason.FOUND_ROWS_FLAG,
          "the pool's connections report found rows (CLIENT_FOUND_ROWS), so Concord cannot tell a duplicate insert " +
            "from a new one: create the pool with createMysqlPool(uri) or mysql2's `flags: ['-FOUND_ROWS']`",
        );
      }
    } finally {
      await runQuery(conn, 'DROP TEMPORARY TABLE IF EXISTS concord_found_rows_probe');
    }
    return { version: info.version, flavor: /mariadb/i.test(info.version) ? 'mariadb' : 'mysql', database: info.db };
  } finally {
    conn.release();
  }
}

/** Opens a driver from a URI (creating the pool, and the database if asked) or from a pool. */
export async function openMysqlDriver<C extends MysqlConnection = PoolConnection>(
  options: MysqlConnectOptions<C> & DriverTuning,
): Promise<MysqlDriver<C>> {
  if (!options.uri && !options.pool) {
    throw new MysqlConfigError(MysqlConfigReason.NO_DATABASE, 'openMysqlStore needs `uri` or `pool`');
  }
  if (options.createDatabase && options.uri) await ensureMysqlDatabase(options.uri);
  if (options.uri && !options.pool && !databaseFromUri(options.uri)) {
    throw new MysqlConfigError(MysqlConfigReason.NO_DATABASE, 'the URI names no database (mysql://host:3306/<database>)');
  }
  const ownsPool = !options.pool;
  const pool = (options.pool ?? (createMysqlPool(options.uri!, options.poolOptions) as unknown as MysqlPool<C>));
  try {
    const info = await inspectMysqlPool(pool);
    return new MysqlDriver<C>({ ...options, pool, ownsPool, database: info.database, flavor: info.flavor, uri: options.uri });
  } catch (error) {
    if (ownsPool) await pool.end().catch(() => {});
    throw error;
  }
}

/**
 * Opens a service's store on MySQL 8 / MariaDB 10.6+ and applies its migrations. With
 * `createDatabase`, the URI's database is created when missing (one database per service).
 */
export async function openMysqlStore<C extends MysqlConnection = PoolConnection>(options: MysqlStoreOptions<C>): Promise<MysqlStore<C>> {
  const driver = await openMysqlDriver(options);
  const store = new SqlStore<C>(driver, options) as MysqlStore<C>;
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/** Core's SqlBroker, whose `close()` also ends its pool (core's leaves the driver open). */
export class MysqlBroker extends SqlBroker {
  override async close(): Promise<void> {
    await super.close();
    await this.driver.close();
  }
}

/** The in-database broker on MySQL/MariaDB: channels, partitions and consumer groups in tables. */
export async function openMysqlBroker<C extends MysqlConnection = PoolConnection>(options: MysqlBrokerOptions<C>): Promise<MysqlBroker> {
  const driver = await openMysqlDriver(options);
  const broker = new MysqlBroker(driver, options);
  try {
    await broker.migrate();
  } catch (error) {
    await driver.close();
    throw error;
  }
  return broker;
}

export type { Pool as MysqlPromisePool };
