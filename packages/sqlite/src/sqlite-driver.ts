import Database from 'better-sqlite3';
import { ClosedError, type SqlDriver, type SqlExecutor } from '@concord/core';
import { sqliteDialect } from './sqlite-dialect.js';

export type SqliteDatabase = Database.Database;

export interface SqliteDriverOptions {
  /** Database file; created when missing. `:memory:` works for throwaway use. */
  readonly filename: string;
  /**
   * `NORMAL` (default) survives any process crash, and loses at most the last commits on power
   * loss; `FULL` syncs every commit to disk.
   */
  readonly synchronous?: 'NORMAL' | 'FULL';
  /** How long to wait for another process's write lock. Default 5 s. */
  readonly busyTimeoutMs?: number;
}

type Statement = Database.Statement<unknown[]>;

/**
 * One better-sqlite3 connection behind an async mutex. Every statement, in a transaction or
 * not, goes through the mutex, so nothing ever reads another transaction's uncommitted rows
 * on the shared connection. Do not open a store transaction inside another on the same store.
 */
export class SqliteDriver implements SqlDriver<SqliteDatabase> {
  readonly dialect = sqliteDialect;
  readonly db: SqliteDatabase;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly statements = new Map<string, Statement>();
  private closed = false;
  private readonly exec: SqlExecutor;

  constructor(options: SqliteDriverOptions) {
    this.db = new Database(options.filename);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    this.db.pragma('foreign_keys = ON');
    this.exec = {
      query: async <R>(sql: string, params: readonly unknown[] = []) => this.prepare(sql).all(...bind(params)) as R[],
      execute: async (sql: string, params: readonly unknown[] = []) => this.prepare(sql).run(...bind(params)).changes,
    };
  }

  private prepare(sql: string): Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  private lock<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ClosedError('sqlite store'));
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }

  transaction<T>(fn: (exec: SqlExecutor, handle: SqliteDatabase) => Promise<T>): Promise<T> {
    return this.lock(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.exec, this.db);
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  run<T>(fn: (exec: SqlExecutor) => Promise<T>): Promise<T> {
    return this.lock(() => fn(this.exec));
  }

  withMigrationLock<T>(fn: (exec: SqlExecutor) => Promise<T>): Promise<T> {
    // BEGIN IMMEDIATE holds the database's write lock: other processes wait (busy_timeout).
    return this.transaction((exec) => fn(exec));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.tail;
    this.closed = true;
    this.statements.clear();
    this.db.close();
  }
}

/** better-sqlite3 refuses booleans and undefined; SQL has neither. */
function bind(params: readonly unknown[]): unknown[] {
  return params.map((p) => (p === undefined ? null : typeof p === 'boolean' ? (p ? 1 : 0) : p));
}
