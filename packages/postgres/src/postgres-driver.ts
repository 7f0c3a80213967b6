import type { PoolClient } from 'pg';
import { ClosedError, defaultLogger, type Logger, type SqlDialect, type SqlExecutor } from '@concord/core';
import { hashPartitionKey, type ListenOptions, type SqlDriver, type SqlTransactionOptions } from '@concord/core/spi';
import { postgresDialect } from './postgres-dialect.js';
import {
  CommitOutcomeUnknownError,
  ConnectionUnavailableError,
  isConnectionError,
  isNotSentError,
  isRetryableTransactionError,
} from './postgres-errors.js';
import { PostgresListener } from './postgres-listener.js';
import type { PostgresPool, PostgresPoolClient } from './postgres-pool.js';
import { PlaceholderRewriter } from './placeholders.js';
import { PipelinedTransaction } from './pipelined-transaction.js';

export type PostgresIsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

export interface PostgresDriverOptions<C extends PostgresPoolClient = PoolClient> {
  readonly pool: PostgresPool<C>;
  /** Schema of Concord's tables, created by the migrations. Default `concord`. */
  readonly schema?: string;
  /** Default `read committed`, PostgreSQL's own default. */
  readonly isolationLevel?: PostgresIsolationLevel;
  /** Runs of a transaction on serialization failures and deadlocks. Default 10. */
  readonly maxTransactionAttempts?: number;
  /**
   * How long a transaction keeps retrying while the server cannot be reached (restart,
   * failover) before giving up with `ConnectionUnavailableError`. Default 30 s.
   */
  readonly reconnectTimeoutMs?: number;
  /**
   * `after-commit` (default): the wake-up goes out with the next commit, or alone right after
   * it (throttled, see `notifyThrottleMs`). `in-transaction`: `pg_notify` runs inside the
   * writing transaction, so PostgreSQL delivers it exactly with the commit; but every
   * notifying transaction then takes a cluster-wide lock through its commit (WAL flush
   * included), which serializes concurrent commits and halves write throughput. A wake-up lost after a commit (the
   * process died in between) only delays listeners to their poll interval.
   */
  readonly notifyMode?: 'in-transaction' | 'after-commit';
  /**
   * `after-commit` only: at most one NOTIFY per topic per this many ms (a trailing one covers the
   * rest). Each rides with the next transaction this driver commits, or goes out alone when none
   * comes within a few ms; listeners in this process are woken at commit without one, so this
   * only delays other processes. Default 20.
   */
  readonly notifyThrottleMs?: number;
  /** End the pool on `close()`. Default false: whoever created the pool ends it. */
  readonly ownsPool?: boolean;
  readonly logger?: Logger;
}

interface TxState {
  lost: unknown;
  notifications: Set<string> | undefined;
}

const MIGRATION_LOCK_CLASS = hashPartitionKey('concord:migrations') | 0;
/** How long an owed NOTIFY waits past its window for a commit to ride with before it goes alone (at least). */
const NOTIFY_CARRIER_WAIT_MS = 5;

/**
 * The SQL driver on a `pg` pool: rewrites placeholders, runs transactions that retry on
 * serialization failures, deadlocks and connections lost before COMMIT, and provides
 * LISTEN/NOTIFY wake-ups. The handle given to user code is the pool's client (a `PoolClient`).
 */
export class PostgresDriver<C extends PostgresPoolClient = PoolClient> implements SqlDriver<C> {
  readonly dialect: SqlDialect;
  readonly schema: string;
  readonly pool: PostgresPool<C>;
  readonly logger: Logger;
  private readonly rewriter = new PlaceholderRewriter();
  private readonly listener: PostgresListener<C>;
  private readonly maxAttempts: number;
  private readonly reconnectTimeoutMs: number;
  private readonly begin: string;
  private readonly notifyMode: 'in-transaction' | 'after-commit';
  private readonly notifyThrottleMs: number;
  private readonly txStates = new WeakMap<SqlExecutor, TxState>();
  private readonly localListeners = new Map<string, Set<() => void>>();
  private readonly poolErrorListener: (error: Error) => void;
  private closed = false;

  constructor(private readonly options: PostgresDriverOptions<C>) {
    this.schema = options.schema ?? 'concord';
    this.dialect = postgresDialect(this.schema);
    this.pool = options.pool;
    this.logger = (options.logger ?? defaultLogger()).child({ component: 'postgres-driver', schema: this.schema });
    this.maxAttempts = options.maxTransactionAttempts ?? 10;
    this.reconnectTimeoutMs = options.reconnectTimeoutMs ?? 30_000;
    this.notifyMode = options.notifyMode ?? 'after-commit';
    this.notifyThrottleMs = options.notifyThrottleMs ?? 20;
    this.begin = `BEGIN ISOLATION LEVEL ${(options.isolationLevel ?? 'read committed').toUpperCase()}`;
    this.listener = new PostgresListener(this.pool, this.logger);
    // An idle client whose server went away is reported on the pool: an unhandled 'error'
    // event would end the process, so it is logged and the pool replaces the client.
    this.poolErrorListener = (error) => this.logger.warn({ err: error }, 'idle PostgreSQL connection lost');
    this.pool.on('error', this.poolErrorListener);
  }

  /** An executor running on `client` (outside Concord's transactions too, e.g. in tests). */
  executor(client: PostgresPoolClient): SqlExecutor {
    return {
      query: async <R>(sql: string, params?: readonly unknown[]) => (await client.query<R>(this.rewriter.statement(sql, params))).rows,
      execute: async (sql: string, params?: readonly unknown[]) => (await client.query(this.rewriter.statement(sql, params))).rowCount ?? 0,
    };
  }

  /** A pooled client, waiting out connection failures up to the reconnect budget. */
  async acquire(): Promise<C> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new ClosedError('postgres driver');
      try {
        return await this.pool.connect();
      } catch (error) {
        const waited = Date.now() - started;
        if (!isConnectionError(error)) throw error;
        if (waited >= this.reconnectTimeoutMs) throw new ConnectionUnavailableError(waited, error);
        await sleep(Math.min(1_000, 25 * 2 ** Math.min(attempt, 6)));
      }
    }
  }

  async transaction<T>(fn: (exec: SqlExecutor, handle: C) => Promise<T>, options?: SqlTransactionOptions): Promise<T> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      const client = await this.acquire();
      const state: TxState = { lost: undefined, notifications: undefined };
      const onError = (error: Error) => (state.lost = error);
      client.on('error', onError);
      const tx = new PipelinedTransaction(client, options?.readOnly ? `${this.begin} READ ONLY` : this.begin, this.rewriter);
      const exec = tx.executor;
      this.txStates.set(exec, state);
      let commitSent = false;
      let carried: string[] = [];
      try {
        const result = await fn(exec, tx.handle as C);
        if (this.notifyMode === 'after-commit' && !options?.readOnly) {
          carried = this.notificationsToCarry(state.notifications);
          for (const topic of carried) exec.enqueue!(`SELECT pg_notify(?, '')`, [this.channel(topic)]);
        }
        commitSent = true;
        await tx.commit();
        if (carried.length > 0) this.noteOwnSession(client);
        client.removeListener('error', onError);
        client.release();
        if (state.notifications) {
          this.wakeLocal(state.notifications);
          if (this.notifyMode === 'after-commit') this.owe([...state.notifications].filter((t) => !carried.includes(t)));
        }
        return result;
      } catch (error) {
        // What this attempt was to carry did not go out: owed again, and due at once.
        for (const topic of carried) this.notifyStateOf(topic).lastAt = Date.now() - this.notifyThrottleMs;
        this.owe(carried);
        const lost = state.lost !== undefined || isConnectionError(error);
        if (!lost) await tx.rollback().catch((e: unknown) => (state.lost = e));
        // A broken client is destroyed, not pooled; it keeps our error listener for late events.
        if (state.lost === undefined && !lost) client.removeListener('error', onError);
        client.release(state.lost !== undefined || lost ? asError(state.lost ?? error) : undefined);
        if (lost && commitSent && !isNotSentError(error)) throw new CommitOutcomeUnknownError(error);
        const retry =
          (isRetryableTransactionError(error) && attempt < this.maxAttempts) ||
          (lost && !this.closed && Date.now() - started < this.reconnectTimeoutMs);
        if (!retry) throw error;
        this.logger.debug({ err: error, attempt }, 'transaction failed before commit; running it again');
        await sleep(Math.min(500, 2 ** attempt + Math.random() * 10 * attempt));
      }
    }
  }

  /** `fn` is idempotent (SqlDriver contract): it runs again on a fresh connection when its own broke. */
  async run<T>(fn: (exec: SqlExecutor) => Promise<T>): Promise<T> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      const client = await this.acquire();
      let lost: unknown;
      const onError = (error: Error) => (lost = error);
      client.on('error', onError);
      try {
        const result = await fn(this.executor(client));
        client.removeListener('error', onError);
        client.release();
        return result;
      } catch (error) {
        const broken = lost !== undefined || isConnectionError(error);
        if (!broken) client.removeListener('error', onError);
        client.release(broken ? asError(lost ?? error) : undefined);
        if (!broken || this.closed || Date.now() - started >= this.reconnectTimeoutMs) throw error;
        await sleep(Math.min(1_000, 25 * 2 ** Math.min(attempt, 6)));
      }
    }
  }

  withMigrationLock<T>(fn: (exec: SqlExecutor) => Promise<T>): Promise<T> {
    return this.transaction(async (exec) => {
      // Transaction-scoped: released by COMMIT or by the connection dying, never leaked.
      await exec.query('SELECT pg_advisory_xact_lock(?, ?)', [MIGRATION_LOCK_CLASS, hashPartitionKey(this.schema) | 0]);
      // Inside the lock: CREATE SCHEMA IF NOT EXISTS is not safe against a concurrent twin.
      await exec.execute(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      return fn(exec);
    });
  }

  /** The NOTIFY channel for a topic: scoped by schema so two services in one database do not wake each other. */
  channel(topic: string): string {
    const name = `${this.schema}.${topic}`;
    // Channel names are identifiers: at most 63 bytes.
    return name.length <= 63 ? name : `${name.slice(0, 50)}.${hashPartitionKey(name).toString(36)}`;
  }

  async notify(exec: SqlExecutor, topic: string): Promise<void> {
    const state = this.txStates.get(exec);
    // Recorded either way: listeners in this process are woken right after the commit.
    if (state) (state.notifications ??= new Set()).add(topic);
    if (this.notifyMode === 'after-commit' && state) return;
    await exec.query(`SELECT pg_notify(?, '')`, [this.channel(topic)]);
  }

  async listen(topic: string, listener: () => void, options: ListenOptions = {}): Promise<() => Promise<void>> {
    if (this.closed) throw new ClosedError('postgres driver');
    let local = this.localListeners.get(topic);
    if (!local) this.localListeners.set(topic, (local = new Set()));
    if (options.includeLocalCommits !== false) local.add(listener);
    const unlisten = await this.listener.listen(this.channel(topic), listener);
    return async () => {
      local.delete(listener);
      await unlisten();
    };
  }

  /** Commits in this process wake this process's listeners at once, without a round trip. */
  private wakeLocal(topics: Set<string>): void {
    for (const topic of topics) {
      for (const listener of this.localListeners.get(topic) ?? []) {
        try {
          listener();
        } catch (error) {
          this.logger.warn({ err: error, topic }, 'listener failed');
        }
      }
    }
  }

  /** Per topic: when its last NOTIFY went out, whether one is owed, and the timer that sends it alone. */
  private readonly notifyState = new Map<string, { lastAt: number; owed: boolean; alone: ReturnType<typeof setTimeout> | undefined }>();

  private notifyStateOf(topic: string) {
    let state = this.notifyState.get(topic);
    if (!state) this.notifyState.set(topic, (state = { lastAt: 0, owed: false, alone: undefined }));
    return state;
  }

  /**
   * The NOTIFYs a committing transaction takes along: those owed whose window has passed, and its
   * own topics that are not inside one. Alone, each NOTIFY is a transaction of its own, with a
   * transaction id and a commit record to flush; carried, it costs the carrier's commit nothing
   * more than the lock it then holds, at most once per topic per window.
   */
  private notificationsToCarry(own: Set<string> | undefined): string[] {
    const now = Date.now();
    const due = (state: { lastAt: number }) => now >= state.lastAt + this.notifyThrottleMs;
    const topics: string[] = [];
    for (const [topic, state] of this.notifyState) if (state.owed && due(state)) topics.push(topic);
    for (const topic of own ?? []) {
      const state = this.notifyStateOf(topic);
      if (!state.owed && due(state) && !topics.includes(topic)) topics.push(topic);
    }
    for (const topic of topics) {
      const state = this.notifyStateOf(topic);
      state.lastAt = now;
      state.owed = false;
      clearTimeout(state.alone);
      state.alone = undefined;
    }
    return topics;
  }

  /**
   * These topics' commits are not announced yet: the next commit after the window takes the
   * NOTIFY along, and if none comes a few ms after it, it goes out alone.
   */
  private owe(topics: readonly string[]): void {
    for (const topic of topics) {
      const state = this.notifyStateOf(topic);
      state.owed = true;
      if (state.alone || this.closed) continue;
      const wait = Math.max(0, state.lastAt + this.notifyThrottleMs - Date.now()) + Math.max(NOTIFY_CARRIER_WAIT_MS, this.notifyThrottleMs / 4);
      state.alone = setTimeout(() => {
        state.alone = undefined;
        if (state.owed) this.notifyAlone(topic, state);
      }, wait);
      state.alone.unref?.();
    }
  }

  private notifyAlone(topic: string, state: { lastAt: number; owed: boolean }): void {
    state.owed = false;
    state.lastAt = Date.now();
    if (this.closed) return;
    this.run((exec) => exec.query<{ pid: number }>(`SELECT pg_notify(?, ''), pg_backend_pid() AS pid`, [this.channel(topic)]))
      .then((rows) => {
        if (rows[0]) this.noteOwnPid(rows[0].pid);
      })
      .catch((error: unknown) => this.logger.debug({ err: error, topic }, 'NOTIFY after commit failed; pollers will catch up'));
  }

  /** Our own NOTIFYs come back to our listener: it skips them (this process woke its listeners at commit). */
  private noteOwnSession(client: PostgresPoolClient): void {
    const pid = (client as { processID?: unknown }).processID;
    if (typeof pid === 'number') this.noteOwnPid(pid);
  }

  private noteOwnPid(pid: number): void {
    const own = this.listener.ownSessions;
    if (own.size > 1_000) own.clear();
    own.add(pid);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.listener.close();
    if (this.options.ownsPool) await this.pool.end();
  }
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
