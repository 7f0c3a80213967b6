import mysql, { type Pool, type PoolOptions } from 'mysql2/promise';
import { InvalidArgumentError } from '@concord/core';
import { MysqlConfigError, MysqlConfigReason } from './mysql-errors.js';
import { quoteIdentifier } from './mysql-dialect.js';

/** The options of a mysql2 query, as far as Concord sets them. */
export interface MysqlQueryOptions {
  sql: string;
  values?: unknown[];
  supportBigNumbers?: boolean;
  bigNumberStrings?: boolean;
}

/** The part of a mysql2/promise connection Concord uses. A `PoolConnection` fits. */
export interface MysqlConnection {
  query(options: MysqlQueryOptions): Promise<[unknown, unknown]>;
  release(): void;
  destroy(): void;
}

/** The part of a mysql2/promise pool Concord uses. A mysql2 `Pool` fits. */
export interface MysqlPool<C extends MysqlConnection = MysqlConnection> {
  getConnection(): Promise<C>;
  end(): Promise<void>;
}

/** What `INSERT/UPDATE/DELETE` answer with (mysql2's ResultSetHeader). */
export interface MysqlResultHeader {
  readonly affectedRows: number;
  readonly insertId?: number;
  readonly info?: string;
}

/**
 * Pool settings Concord relies on. `-FOUND_ROWS` makes `affectedRows` count changed rows, so
 * a duplicate `INSERT ... ON DUPLICATE KEY UPDATE k = k` reports 0 (the driver still returns
 * matched rows for UPDATE, read from the server's info line). `trace: false`: mysql2 otherwise
 * captures a stack trace at every query in case it fails, about a tenth of the Node process's
 * busy time under load; a failing statement still throws with its code and message, wrapped
 * in Concord's typed errors. Pass `trace: true` in the pool options to have it back.
 * `multipleStatements: true` lets a transaction send its START TRANSACTION, the writes whose
 * result nobody reads and its COMMIT together with its other statements, in one query each
 * (decision 043): about 40 % fewer round trips per saga. Concord binds every value through
 * placeholders; code of yours that builds SQL by concatenating input should not share this
 * pool (pass `multipleStatements: false`: transactions then send one statement at a time).
 */
export const CONCORD_POOL_DEFAULTS = {
  flags: ['-FOUND_ROWS'],
  charset: 'UTF8MB4_UNICODE_CI',
  connectionLimit: 10,
  enableKeepAlive: true,
  trace: false,
  multipleStatements: true,
} as const satisfies PoolOptions;

/** A mysql2 pool for `uri` with the settings Concord needs; `extra` is merged over them. */
export function createMysqlPool(uri: string, extra: PoolOptions = {}): Pool {
  databaseFromUri(uri); // validates early, with a readable message
  return mysql.createPool({ uri, ...CONCORD_POOL_DEFAULTS, ...extra, flags: [...CONCORD_POOL_DEFAULTS.flags, ...toFlags(extra.flags)] });
}

function toFlags(flags: PoolOptions['flags']): string[] {
  if (flags === undefined) return [];
  return Array.isArray(flags) ? flags : String(flags).split(',');
}

/** The database a `mysql://user:pass@host:port/database` URI names, or undefined. */
export function databaseFromUri(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch (cause) {
    throw new InvalidArgumentError(`not a valid MySQL URI: ${redact(uri)}`, { cause });
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') {
    throw new InvalidArgumentError(`expected a mysql:// URI, got ${url.protocol}//`);
  }
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  return name === '' ? undefined : name;
}

/** The same URI without its database, to connect to the server itself. */
export function serverUri(uri: string): string {
  const url = new URL(uri);
  url.pathname = '/';
  return url.toString().replace(/^mariadb:/, 'mysql:');
}

function redact(uri: string): string {
  return uri.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/**
 * Creates the database a URI names when it does not exist yet (one database per service),
 * with utf8mb4 as its character set. Returns the database name.
 */
export async function ensureMysqlDatabase(uri: string): Promise<string> {
  const database = databaseFromUri(uri);
  if (!database) throw new MysqlConfigError(MysqlConfigReason.NO_DATABASE, `no database named in ${redact(uri)}`);
  const connection = await mysql.createConnection({ uri: serverUri(uri) });
  try {
    await connection.query(`CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(database)} CHARACTER SET utf8mb4`);
  } finally {
    await connection.end();
  }
  return database;
}

/** Drops a database (tests, tear-down scripts). */
export async function dropMysqlDatabase(uri: string): Promise<void> {
  const database = databaseFromUri(uri);
  if (!database) throw new MysqlConfigError(MysqlConfigReason.NO_DATABASE, `no database named in ${redact(uri)}`);
  const connection = await mysql.createConnection({ uri: serverUri(uri) });
  try {
    await connection.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(database)}`);
  } finally {
    await connection.end();
  }
}
