import type { PoolConnection } from 'mysql2/promise';
import type { MysqlFlavor } from './mysql-dialect.js';
import { MysqlDriver, queryRows, runQuery, changedRows } from './mysql-driver.js';
import { MysqlConfigError, MysqlConfigReason } from './mysql-errors.js';
import type { MysqlConnectionOptions } from './mysql-options.js';
import { createMysqlPool, databaseFromUri, ensureMysqlDatabase, type MysqlConnection, type MysqlPool, type MysqlResultHeader } from './mysql-pool.js';

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

/** Opens a driver from a connection string (creating the pool, and the database if asked) or from a pool. */
export async function openMysqlDriver<C extends MysqlConnection = PoolConnection>(options: MysqlConnectionOptions<C>): Promise<MysqlDriver<C>> {
  const { connectionString } = options;
  if (!connectionString && !options.pool) {
    throw new MysqlConfigError(MysqlConfigReason.NO_DATABASE, 'openMysqlStore needs `connectionString` or `pool`');
  }
  if (options.createDatabase && connectionString) await ensureMysqlDatabase(connectionString);
  if (connectionString && !options.pool && !databaseFromUri(connectionString)) {
    throw new MysqlConfigError(MysqlConfigReason.NO_DATABASE, 'the connection string names no database (mysql://host:3306/<database>)');
  }
  const ownsPool = !options.pool;
  const pool =
    options.pool ??
    (createMysqlPool(connectionString!, { connectionLimit: options.poolSize ?? 10, ...options.poolOptions }) as unknown as MysqlPool<C>);
  try {
    const info = await inspectMysqlPool(pool);
    return new MysqlDriver<C>({ ...options, pool, ownsPool, database: info.database, flavor: info.flavor, connectionString });
  } catch (error) {
    if (ownsPool) await pool.end().catch(() => {});
    throw error;
  }
}
