import Database from 'better-sqlite3';
import { ClosedError, type SqlExecutor } from '@concord/core';
import { type ListenOptions, type SqlDriver } from '@concord/core/spi';
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
  /** Most transactions sharing one COMMIT (group commit). 1 turns grouping off. Default 128. */
  readonly maxGroupCommit?: number;
  /**
   * While something listens (`listen`), how often the file is checked for commits of other
   * processes (`PRAGMA data_version`, which reads no table). Default 5 ms.
   */
  readonly changeCheckMs?: number;
}

interface Listener {
  readonly topic: string;
  readonly callback: () => void;
  readonly includeLocalCommits: boolean;
}

interface PendingTransaction {
  fn: (exec: SqlExecutor, handle: SqliteDatabase) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
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
  private readonly pendingTransactions: PendingTransaction[] = [];
  private readonly maxGroupSize: number;
  private readonly listeners = new Set<Listener>();
  private readonly changeCheckMs: number;
  private changeTimer: ReturnType<typeof setInterval> | undefined;
  private dataVersion = 0;
  /** Topics the transactions of the group being committed notified. */
  private notified = new Set<string>();

  constructor(options: SqliteDriverOptions) {
    this.db = new Database(options.filename);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    this.db.pragma('busy_timeout = 0');
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.maxGroupSize = options.maxGroupCommit ?? 128;
    this.changeCheckMs = options.changeCheckMs ?? 5;
    this.db.pragma('foreign_keys = ON');
    // Outbox, inbox and broker tables are write-heavy: a larger page cache and memory-mapped
    // reads keep hot B-tree pages out of syscalls.
    this.db.pragma('cache_size = -32000');
    this.db.pragma('mmap_size = 268435456');
    this.db.pragma('temp_store = MEMORY');
    this.exec = {
      query: async <R>(sql: string, params: readonly unknown[] = []) => this.prepare(sql).all(...bind(params)) as R[],
      execute: async (sql: string, params: readonly unknown[] = []) => this.prepare(sql).run(...bind(params)).changes,
    };
  }

  /** Prepared statements by SQL text; the least recently used go once there are 1,000. */
  private prepare(sql: string): Statement {
    let stmt = this.statements.get(sql);
    if (stmt) {
      this.statements.delete(sql);
    } else {
      stmt = this.db.prepare(sql);
      if (this.statements.size >= 1_000) this.statements.delete(this.statements.keys().next().value!);
    }
    this.statements.set(sql, stmt);
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

  /**
   * Group commit: transactions that queue up while the connection is busy run together, one
   * after another, each inside its own savepoint, and share a single COMMIT. Each keeps its
   * own atomicity (a failure rolls back to its savepoint only); callers hear back only after
   * the shared COMMIT, so nobody sees a success that could still be lost.
   */
  transaction<T>(fn: (exec: SqlExecutor, handle: SqliteDatabase) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ClosedError('sqlite store'));
    return new Promise<T>((resolve, reject) => {
      this.pendingTransactions.push({ fn, resolve, reject } as PendingTransaction);
      if (this.pendingTransactions.length === 1) this.scheduleCommit();
    });
  }

  private scheduleCommit(): void {
    this.lock(() => this.commitGroup()).catch((error: unknown) => {
      // Closed meanwhile (or SQLite failed outside any member): nobody may wait for ever.
      for (const member of this.pendingTransactions.splice(0)) member.reject(error);
    });
  }

  private async commitGroup(): Promise<void> {
    const group = this.pendingTransactions.splice(0, this.maxGroupSize);
    if (this.pendingTransactions.length > 0) this.scheduleCommit();
    if (group.length === 0) return;
    const done: Array<{ member: PendingTransaction; value: unknown }> = [];
    try {
      await this.whileBusy(() => this.prepare('BEGIN IMMEDIATE').run());
    } catch (error) {
      for (const member of group) member.reject(error);
      return;
    }
    for (const member of group) {
      const single = group.length === 1;
      if (!single) this.prepare('SAVEPOINT concord_group').run();
      try {
        const value = await member.fn(this.exec, this.db);
        if (!single) this.prepare('RELEASE SAVEPOINT concord_group').run();
        done.push({ member, value });
      } catch (error) {
        if (this.db.inTransaction && !single) {
          this.prepare('ROLLBACK TO SAVEPOINT concord_group').run();
          this.prepare('RELEASE SAVEPOINT concord_group').run();
        } else if (this.db.inTransaction) {
          this.db.exec('ROLLBACK');
        }
        member.reject(error);
        if (!this.db.inTransaction && done.length > 0) {
          // SQLite rolled back the whole transaction itself (e.g. disk full): the members that
          // had succeeded are gone too.
          for (const d of done.splice(0)) d.member.reject(error);
        }
        if (!this.db.inTransaction) return;
      }
    }
    try {
      await this.whileBusy(() => this.prepare('COMMIT').run());
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      for (const d of done) d.member.reject(error);
      return;
    }
    for (const d of done) d.member.resolve(d.value);
    this.wakeLocal();
  }

  /** Recorded for the listeners of this process; other processes notice the commit itself. */
  async notify(_exec: SqlExecutor, topic: string): Promise<void> {
    this.notified.add(topic);
  }

  /**
   * Wake-ups across processes without a server: SQLite cannot say what another process
   * committed, only that it did (`PRAGMA data_version` changes), so such a commit wakes every
   * listener of this driver, whatever its topic; this process's own commits wake the topics
   * they notified. A missed wake-up cannot happen: any commit of another connection moves the
   * version.
   */
  async listen(topic: string, callback: () => void, options: ListenOptions = {}): Promise<() => Promise<void>> {
    if (this.closed) throw new ClosedError('sqlite store');
    const listener: Listener = { topic, callback, includeLocalCommits: options.includeLocalCommits !== false };
    this.listeners.add(listener);
    if (!this.changeTimer) {
      this.dataVersion = this.readDataVersion();
      this.changeTimer = setInterval(() => this.checkForChanges(), this.changeCheckMs);
      this.changeTimer.unref?.();
    }
    return async () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopWatching();
    };
  }

  private readDataVersion(): number {
    // Prepared once (through the statement cache): this runs every few milliseconds.
    return Number(this.prepare('PRAGMA data_version').pluck().get());
  }

  private checkForChanges(): void {
    if (this.closed) return;
    const version = this.readDataVersion();
    if (version === this.dataVersion) return;
    this.dataVersion = version;
    for (const listener of [...this.listeners]) call(listener.callback);
  }

  private wakeLocal(): void {
    if (this.notified.size === 0) return;
    const topics = this.notified;
    this.notified = new Set();
    for (const listener of [...this.listeners]) {
      if (listener.includeLocalCommits && topics.has(listener.topic)) call(listener.callback);
    }
  }

  private stopWatching(): void {
    clearInterval(this.changeTimer);
    this.changeTimer = undefined;
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
    this.listeners.clear();
    this.stopWatching();
    this.statements.clear();
    this.db.close();
  }
}

/** A listener that throws must not stop the others (nor the commit that woke them). */
function call(callback: () => void): void {
  try {
    callback();
  } catch {
    // the listener's own business
  }
}

/** better-sqlite3 refuses booleans and undefined; SQL has neither. */
function bind(params: readonly unknown[]): unknown[] {
  return params.map((p) => (p === undefined ? null : typeof p === 'boolean' ? (p ? 1 : 0) : p));
}
