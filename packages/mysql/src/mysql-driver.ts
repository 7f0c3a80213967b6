import type { PoolConnection } from 'mysql2/promise';
import {
  ClosedError,
  ConcordError,
  ConcordErrorCode,
  defaultLogger,
  systemClock,
  type Clock,
  type Logger,
  type SqlDialect,
  type SqlExecutor,
} from '@concord/core';
import { backoffDelay, type SqlDriver, type SqlTransactionOptions } from '@concord/core/spi';
import { createMysqlDialect, type MysqlFlavor } from './mysql-dialect.js';
import { isRetryableTransactionError, mysqlErrno, MysqlErrno } from './mysql-errors.js';
import type { MysqlConnection, MysqlPool, MysqlResultHeader } from './mysql-pool.js';
import { lockName } from './mysql-locks.js';
import { changedRows, multiStatementConnection, PipelinedMysqlTransaction, type TransactionState } from './pipelined-transaction.js';

export { changedRows };

export type MysqlIsolationLevel = 'READ UNCOMMITTED' | 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';

export interface MysqlDriverOptions<C extends MysqlConnection = PoolConnection> {
  /** A mysql2/promise pool whose connections do not set CLIENT_FOUND_ROWS (see `createMysqlPool`). */
  readonly pool: MysqlPool<C>;
  /** The service's database: the pool's default database. */
  readonly database: string;
  readonly flavor?: MysqlFlavor;
  /** The connection string the pool was made from, when known (the binlog relay connects with it). */
  readonly connectionString?: string;
  /** End the pool on `close()`. Default: true. */
  readonly ownsPool?: boolean;
  /** Isolation of Concord's transactions. Default: the server's (REPEATABLE READ). */
  readonly isolationLevel?: MysqlIsolationLevel;
  /** Runs of a transaction on deadlocks and lock wait timeouts, the first included. Default 10. */
  readonly maxTransactionAttempts?: number;
  /** How long a migration waits for another process's migration lock. Default 60 s. */
  readonly migrationLockTimeoutSeconds?: number;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

export interface MysqlTransactionOptions extends SqlTransactionOptions {
  /** This transaction's isolation, over the driver's default. */
  readonly isolationLevel?: MysqlIsolationLevel;
}

const retryBackoff = { initialMs: 5, maxMs: 500, multiplier: 2, jitter: 0.5 };

/** A begun transaction, pipelined or one statement per round trip. */
interface OpenTransaction {
  readonly executor: SqlExecutor;
  readonly handle: MysqlConnection;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/** A transaction on a connection without `multipleStatements`: each statement is a query of its own. */
async function statementAtATime(conn: MysqlConnection, begin: readonly string[], state: TransactionState): Promise<OpenTransaction> {
  for (const statement of begin) await runQuery(conn, statement);
  return {
    executor: executorFor(conn, state),
    handle: conn,
    commit: async () => void (await runQuery(conn, 'COMMIT')),
    rollback: async () => void (await runQuery(conn, 'ROLLBACK')),
  };
}

/**
 * Concord's SQL driver over a mysql2/promise pool. `?` placeholders are mysql2's own. Each
 * transaction runs on one pooled connection, which user code receives as its handle; on a
 * deadlock or lock wait timeout the whole transaction runs again on a fresh connection.
 */
export class MysqlDriver<C extends MysqlConnection = PoolConnection> implements SqlDriver<C> {
  readonly dialect: SqlDialect;
  readonly pool: MysqlPool<C>;
  readonly database: string;
  readonly flavor: MysqlFlavor;
  readonly connectionString: string | undefined;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private closed = false;

  constructor(private readonly options: MysqlDriverOptions<C>) {
    this.pool = options.pool;
    this.database = options.database;
    this.flavor = options.flavor ?? 'mariadb';
    this.connectionString = options.connectionString;
    this.dialect = createMysqlDialect(this.flavor);
    this.logger = (options.logger ?? defaultLogger()).child({ component: 'mysql-driver' });
    this.clock = options.clock ?? systemClock;
  }

  /** A connection from the pool; callers release it. */
  async connection(): Promise<C> {
    if (this.closed) throw new ClosedError('mysql store');
    return this.pool.getConnection();
  }

  async transaction<T>(fn: (exec: SqlExecutor, handle: C) => Promise<T>, options?: MysqlTransactionOptions): Promise<T> {
    const attempts = this.options.maxTransactionAttempts ?? 10;
    for (let attempt = 1; ; attempt++) {
      const conn = await this.connection();
      const state: TransactionState = { doomedBy: undefined };
      let tx: OpenTransaction | undefined;
      let healthy = true;
      try {
        const isolation = options?.isolationLevel ?? this.options.isolationLevel;
        const begin = [...(isolation ? [`SET TRANSACTION ISOLATION LEVEL ${isolation}`] : []), options?.readOnly ? 'START TRANSACTION READ ONLY' : 'START TRANSACTION'];
        const core = multiStatementConnection(conn);
        tx = core ? new PipelinedMysqlTransaction(conn, core, begin, state) : await statementAtATime(conn, begin, state);
        const result = await fn(tx.executor, tx.handle as C);
        // Someone caught the deadlock (a savepoint, a handler), or a queued write failed: InnoDB
        // already rolled back, or would commit without that write, so committing now would
        // silently drop work.
        if (state.doomedBy !== undefined) throw state.doomedBy;
        await tx.commit();
        return result;
      } catch (error) {
        try {
          await (tx ? tx.rollback() : runQuery(conn, 'ROLLBACK'));
        } catch {
          healthy = false;
        }
        const cause = state.doomedBy ?? error;
        if (isRetryableTransactionError(cause) && attempt < attempts) {
          this.logger.debug({ err: cause, attempt }, 'transaction rolled back by the server; running it again');
          await this.clock.sleep(backoffDelay(retryBackoff, attempt));
          continue;
        }
        throw cause;
      } finally {
        if (healthy) conn.release();
        else conn.destroy();
      }
    }
  }

  async run<T>(fn: (exec: SqlExecutor) => Promise<T>): Promise<T> {
    const conn = await this.connection();
    try {
      return await fn(executorFor(conn));
    } finally {
      conn.release();
    }
  }

  async withMigrationLock<T>(fn: (exec: SqlExecutor) => Promise<T>): Promise<T> {
    const conn = await this.connection();
    const name = lockName(this.database, 'migrate');
    const timeout = this.options.migrationLockTimeoutSeconds ?? 60;
    try {
      const rows = await queryRows<{ got: number | null }>(conn, 'SELECT GET_LOCK(?, ?) AS got', [name, timeout]);
      if (Number(rows[0]?.got) !== 1) {
        throw new ConcordError(ConcordErrorCode.TIMEOUT, `migration lock ${name} not granted within ${timeout} s`);
      }
      try {
        return await fn(this.migrationExecutor(conn));
      } finally {
        await runQuery(conn, 'SELECT RELEASE_LOCK(?)', [name]);
      }
    } finally {
      conn.release();
    }
  }

  /** MySQL 8 has no `CREATE INDEX IF NOT EXISTS`: an index that is already there is done. */
  private migrationExecutor(conn: C): SqlExecutor {
    const exec = executorFor(conn);
    if (this.flavor === 'mariadb') return exec;
    return {
      query: exec.query,
      execute: async (sql, params) => {
        try {
          return await exec.execute(sql, params);
        } catch (error) {
          if (mysqlErrno(error) === MysqlErrno.DUP_KEYNAME && /^\s*CREATE\s+INDEX/i.test(sql)) return 0;
          throw error;
        }
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.options.ownsPool ?? true) await this.pool.end();
  }
}

/** Runs one statement; BIGINT and DECIMAL come back as strings, so no value is ever rounded. */
export async function runQuery(conn: MysqlConnection, sql: string, params: readonly unknown[] = []): Promise<unknown> {
  const [result] = await conn.query({ sql, values: bind(params), supportBigNumbers: true, bigNumberStrings: true });
  return result;
}

export async function queryRows<R>(conn: MysqlConnection, sql: string, params: readonly unknown[] = []): Promise<R[]> {
  return (await runQuery(conn, sql, params)) as R[];
}

export function executorFor(conn: MysqlConnection, state?: TransactionState): SqlExecutor {
  const guarded = async (sql: string, params: readonly unknown[] | undefined): Promise<unknown> => {
    if (state?.doomedBy !== undefined) throw state.doomedBy;
    try {
      return await runQuery(conn, sql, params);
    } catch (error) {
      if (state && isRetryableTransactionError(error)) state.doomedBy = error;
      throw error;
    }
  };
  return {
    query: async <R>(sql: string, params?: readonly unknown[]) => (await guarded(sql, params)) as R[],
    execute: async (sql, params) => changedRows((await guarded(sql, params)) as MysqlResultHeader),
  };
}

/** mysql2 would format `undefined` as a bare keyword; SQL wants NULL. */
function bind(params: readonly unknown[]): unknown[] {
  return params.map((p) => (p === undefined ? null : p));
}
