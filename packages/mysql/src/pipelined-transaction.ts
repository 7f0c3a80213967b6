import type { SqlExecutor } from '@concord/core';
import { isRetryableTransactionError } from './mysql-errors.js';
import type { MysqlConnection, MysqlResultHeader } from './mysql-pool.js';

interface Statement {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** The callback connection under a mysql2/promise one (`PromiseConnection.connection`). */
interface CoreConnection {
  readonly config?: { readonly multipleStatements?: boolean };
  query(
    options: { sql: string; values: unknown[]; supportBigNumbers: boolean; bigNumberStrings: boolean },
    callback: (error: Error | null, results?: unknown) => void,
  ): { on(event: 'fields', listener: () => void): unknown };
}

/** The callback connection of `conn` when it runs several statements per query, else undefined. */
export function multiStatementConnection(conn: MysqlConnection): CoreConnection | undefined {
  const core = (conn as { connection?: CoreConnection }).connection;
  return core?.config?.multipleStatements === true && typeof core.query === 'function' ? core : undefined;
}

/** The transaction's state: once InnoDB rolled it back, or a queued write failed, nothing more may run or commit. */
export interface TransactionState {
  doomedBy: unknown;
}

/**
 * One transaction on one connection whose pool allows several statements per query
 * (`multipleStatements`), in as few round trips as the work allows: START TRANSACTION goes out
 * with the first statement, and writes whose result nobody reads (`enqueue`: outbox rows, saga
 * history, savepoints) wait and go out with the next statement or with the COMMIT, all in one
 * query. MySQL has no pipelining, so without this every statement is a round trip of its own.
 *
 * MySQL runs a multi-statement query until its first failing statement and, unlike PostgreSQL,
 * keeps the transaction open. A queued write that fails therefore dooms the transaction here:
 * the statement it rode with (or the commit) throws its error, and nothing commits. Which
 * statement failed is known by counting the result sets that came back before the error.
 */
export class PipelinedMysqlTransaction {
  private unsent: Statement[];
  /** Whether anything reached the server: ROLLBACK of a transaction never begun is skipped. */
  private began = false;
  private readonly beginStatements: number;
  /** Statements user code made Concord send ahead of its own (see `flushUnsent`), until answered. */
  private flushed: Promise<unknown> | undefined;
  readonly executor: SqlExecutor;
  /** Statements of user code on the connection must find the transaction begun and Concord's writes made. */
  readonly handle: MysqlConnection;

  constructor(
    private readonly conn: MysqlConnection,
    private readonly core: CoreConnection,
    begin: readonly string[],
    private readonly state: TransactionState,
  ) {
    this.unsent = begin.map((sql) => ({ sql, params: [] }));
    this.beginStatements = begin.length;
    this.executor = {
      query: async <R>(sql: string, params?: readonly unknown[]) => (await this.send({ sql, params: params ?? [] })) as R[],
      execute: async (sql: string, params?: readonly unknown[]) => changedRows((await this.send({ sql, params: params ?? [] })) as MysqlResultHeader),
      enqueue: (sql: string, params?: readonly unknown[]) => {
        this.unsent.push({ sql, params: params ?? [] });
      },
    };
    this.handle = this.guardedHandle();
  }

  /** Sends what is queued with COMMIT; throws when any of it failed (then nothing committed). */
  async commit(): Promise<void> {
    if (!this.began && this.unsent.length === this.beginStatements) return; // nothing ran, nothing queued
    await this.send({ sql: 'COMMIT', params: [] });
  }

  async rollback(): Promise<void> {
    this.unsent = [];
    await this.flushed;
    if (this.began) await this.batch([{ sql: 'ROLLBACK', params: [] }]);
  }

  /** Runs the queued statements and `last` as one query; answers `last`'s result. */
  private async send(last: Statement): Promise<unknown> {
    await this.flushed;
    if (this.state.doomedBy !== undefined) throw this.state.doomedBy;
    const statements = [...this.unsent, last];
    this.unsent = [];
    try {
      return await this.batch(statements);
    } catch (error) {
      const failed = (error as { statementIndex?: number }).statementIndex ?? statements.length - 1;
      // A queued write failed (the caller's own statement never ran), or the server rolled the
      // whole transaction back: either way it must not commit.
      if (failed < statements.length - 1 || isRetryableTransactionError(error)) this.state.doomedBy ??= error;
      throw error;
    }
  }

  /** One query of one or more statements; a failure carries the index of the statement that failed. */
  private batch(statements: readonly Statement[]): Promise<unknown> {
    this.began = true;
    const sql = statements.length === 1 ? statements[0]!.sql : statements.map((s) => s.sql).join('\n;\n');
    const values = statements.flatMap((s) => s.params.map((p) => (p === undefined ? null : p)));
    return new Promise((resolve, reject) => {
      let completed = 0;
      const query = this.core.query({ sql, values, supportBigNumbers: true, bigNumberStrings: true }, (error, results) => {
        if (error) reject(Object.assign(error, { statementIndex: completed }));
        else resolve(statements.length === 1 ? results : (results as unknown[])[statements.length - 1]);
      });
      // One 'fields' event per result set that came back (an OK packet counts as one).
      query.on('fields', () => completed++);
    });
  }

  /** The connection as user code sees it: its own `query` first sends what Concord queued. */
  private guardedHandle(): MysqlConnection {
    const target = this.conn as unknown as Record<PropertyKey, unknown>;
    return new Proxy(target, {
      get: (obj, property) => {
        if (property === 'query' || property === 'execute') {
          return (...args: unknown[]) => {
            this.flushUnsent();
            return (obj[property] as (...a: unknown[]) => unknown).apply(obj, args);
          };
        }
        const value = obj[property];
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(obj) : value;
      },
    }) as unknown as MysqlConnection;
  }

  /** Sends what is queued without waiting (mysql2 runs a connection's queries in order); a failure dooms the transaction. */
  private flushUnsent(): void {
    if (this.unsent.length === 0) return;
    const statements = this.unsent;
    this.unsent = [];
    this.flushed = this.batch(statements).catch((error: unknown) => (this.state.doomedBy ??= error));
  }
}

/**
 * Rows an UPDATE matched (as PostgreSQL and SQLite count them), else rows changed. The
 * server sends "Rows matched: N  Changed: M" for every UPDATE, whatever the client flags.
 */
export function changedRows(header: MysqlResultHeader): number {
  const matched = header.info ? /^Rows matched:\s*(\d+)/.exec(header.info) : null;
  return matched ? Number(matched[1]) : header.affectedRows;
}
