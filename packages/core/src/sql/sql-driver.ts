import type { StoreCapabilities } from '../ports/store.js';

/** Runs SQL written with `?` placeholders; each driver rewrites them as its server wants. */
export interface SqlExecutor {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Returns the number of rows changed. */
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
  /**
   * Optional, in transactions: a write whose result nobody reads. The driver may hold it and
   * send it with the transaction's next statement or its COMMIT, in one round trip. Its
   * failure fails that statement or the commit (even inside a savepoint), so the transaction
   * still commits all or nothing. Use `writeLater` rather than calling this directly.
   */
  enqueue?(sql: string, params?: readonly unknown[]): void;
  /**
   * Optional, in transactions: `enqueue` for a write whose changed-row count is read later.
   * The count is asked for by calling the returned function, which sends the statement first
   * if it is still waiting. Asked for after a later statement's answer, it costs no round trip:
   * answers come back in order. Drivers that pipeline (PostgreSQL) offer it.
   */
  enqueueCounted?(sql: string, params?: readonly unknown[]): () => Promise<number>;
}

/**
 * Runs a write whose result is not needed: queued where the executor can (see `enqueue`: on
 * PostgreSQL it goes out with the transaction's next statement or its COMMIT, without a round
 * trip of its own), at once elsewhere. A failure surfaces there, and the transaction commits
 * nothing either way.
 */
export async function writeLater(exec: SqlExecutor, sql: string, params?: readonly unknown[]): Promise<void> {
  if (exec.enqueue) exec.enqueue(sql, params);
  else await exec.execute(sql, params);
}

export interface SqlColumnTypes {
  /** Auto-incrementing 64-bit primary key column definition, including PRIMARY KEY. */
  readonly autoId: string;
  /** A short indexed string (ids, names): must be usable in a primary key. */
  readonly key: string;
  /** Unbounded text (JSON payloads, stacks). */
  readonly text: string;
  readonly int: string;
  readonly bigint: string;
}

/**
 * The real differences between SQLite, PostgreSQL and MySQL, and nothing else: the SQL text
 * that is the same everywhere lives once, in core.
 */
export interface SqlDialect {
  readonly name: 'sqlite' | 'postgres' | 'mysql';
  readonly capabilities: StoreCapabilities;
  readonly types: SqlColumnTypes;
  /** Qualifies a Concord table name (schema or prefix). */
  table(name: string): string;
  /** Quotes an identifier that may be a reserved word. */
  quote(identifier: string): string;
  /** An INSERT that does nothing when the primary key already exists. */
  insertIgnore(table: string, columns: readonly string[], rows?: number): string;
  /** Suffix that row-locks what a SELECT reads, or '' where the engine locks whole databases. */
  readonly forUpdate: string;
  /** `WHERE ...` for a partial index, or '' where partial indexes do not exist. */
  partialIndexWhere(condition: string): string;
  /** Statements (run in order) to create an index only when missing. */
  createIndex(name: string, table: string, columns: string, where?: string): string;
  /**
   * Optional: the table (qualified as `table()` names it) whose unique key `error` violated, or
   * undefined for any other error. Lets a transaction insert without checking first and learn
   * from the failure that the row existed (see `SqlStoreTransaction.guessAbsent`).
   */
  uniqueViolationTable?(error: unknown): string | undefined;
}

export interface SqlTransactionOptions {
  /** Read-only work may skip the writer lock where the driver has one. */
  readonly readOnly?: boolean;
}

/**
 * What an adapter package implements: connections, transactions and placeholders. Drivers
 * retry a whole transaction on serialization failures and deadlocks, so `fn` may run twice.
 */
export interface ListenOptions {
  /** Default true. */
  readonly includeLocalCommits?: boolean;
}

export interface SqlDriver<H = unknown> {
  readonly dialect: SqlDialect;
  transaction<T>(fn: (exec: SqlExecutor, handle: H) => Promise<T>, options?: SqlTransactionOptions): Promise<T>;
  /** Runs statements outside an explicit transaction (each commits on its own). `fn` must be
   * idempotent: a driver may run it again after a transient lock or connection error. */
  run<T>(fn: (exec: SqlExecutor) => Promise<T>): Promise<T>;
  /** Serializes schema changes across processes (advisory lock, BEGIN IMMEDIATE...). */
  withMigrationLock<T>(fn: (exec: SqlExecutor) => Promise<T>): Promise<T>;
  /** Optional cross-process wake-up (PostgreSQL NOTIFY): called inside the writing transaction. */
  notify?(exec: SqlExecutor, topic: string): Promise<void>;
  /**
   * Optional: subscribe to `notify` from any process. Commits of this process call `listener`
   * right after they commit unless `includeLocalCommits` is false (for a caller that already
   * wakes exactly what its own commit touched).
   */
  listen?(topic: string, listener: () => void, options?: ListenOptions): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
