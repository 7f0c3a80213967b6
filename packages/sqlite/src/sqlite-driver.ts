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
  /** How long to wait for another connection's write lock. Default 5 s. */
  readonly busyTimeoutMs?: number;
}

/**
 * better-sqlite3 is synchronous: SQLite's own busy_timeout would spin while blocking the event
 * loop, so a second connection in the same process could never let the first one finish
 * (deadlock until timeout). The driver waits for locks asynchronously instead.
 */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
  private readonly busyTimeoutMs: number;

  constructor(options: SqliteDriverOptions) {
    this.db = new Database(options.filename);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    this.db.pragma('busy_timeout = 0');
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
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

  /** Retries `attempt` while another connection holds the write lock, up to busyTimeoutMs. */
  private async whileBusy<T>(attempt: () => T | Promise<T>): Promise<T> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
      try {
        return await attempt();
      } catch (error) {
        if (!isBusy(error) || Date.now() + wait > deadline) throw error;
        await sleep(wait);
      }
    }
  }

  transaction<T>(fn: (exec: SqlExecutor, handle: SqliteDatabase) => Promise<T>): Promise<T> {
    return this.lock(async () => {
      await this.whileBusy(() => this.db.exec('BEGIN IMMEDIATE'));
      try {
        const result = await fn(this.exec, this.db);
        await this.whileBusy(() => this.db.exec('COMMIT'));
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  /** Statements outside a transaction; the whole `fn` is retried while the database is busy. */
  run<T>(fn: (exec: SqlExecutor) => Promise<T>): Promise<T> {
    return this.lock(() => this.whileBusy(() => fn(this.exec)));
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
