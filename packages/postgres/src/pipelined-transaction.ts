import { IllegalStateError, type SqlExecutor } from '@concord/core';
import type { PostgresPoolClient, PostgresQueryResult } from './postgres-pool.js';
import type { PlaceholderRewriter } from './placeholders.js';

interface Statement {
  readonly text: string;
  readonly name?: string;
  readonly values?: unknown[];
}

/** The parts of a `pg` client that pipelining uses, when it has them (a `pg.Client` does). */
interface CorkableClient {
  readonly connection?: { readonly stream?: { cork?(): void; uncork?(): void } };
}

/**
 * One transaction on one client, written in as few round trips as the work allows: BEGIN goes
 * out with the first statement, and writes whose result nobody reads (`enqueue`: outbox rows,
 * history, savepoints) wait and go out with the next statement or with the COMMIT. On a client
 * in `pg`'s pipeline mode these are written together, in one socket write, and answered
 * together; on any other client they still run in order, one after the other.
 *
 * A queued write that fails aborts the transaction, so every later statement fails and COMMIT
 * answers ROLLBACK: the caller is given the queued write's own error, and nothing commits.
 */
export class PipelinedTransaction {
  private unsent: Statement[];
  /** The socket is corked, and uncorks when the current job ends. */
  private corked = false;
  /** Statements queued by `enqueueCounted`, and their answers once they are sent. */
  private readonly counted = new WeakSet<Statement>();
  private readonly answers = new WeakMap<Statement, Promise<PostgresQueryResult<unknown>>>();
  private began = false;
  /** A queued write that failed after being sent without waiting (see `flushUnsent`). */
  private failure: unknown;
  /** Statements written by `handle` users directly must find the transaction begun. */
  readonly handle: PostgresPoolClient;
  readonly executor: SqlExecutor;

  constructor(
    private readonly client: PostgresPoolClient,
    begin: string,
    private readonly rewriter: PlaceholderRewriter,
  ) {
    this.unsent = [{ text: begin }];
    this.handle = this.guardedHandle();
    this.executor = {
      query: async <R>(sql: string, params?: readonly unknown[]) => (await this.send<R>(this.statement(sql, params))).rows,
      execute: async (sql: string, params?: readonly unknown[]) => (await this.send(this.statement(sql, params))).rowCount ?? 0,
      enqueue: (sql: string, params?: readonly unknown[]) => {
        this.unsent.push(this.statement(sql, params));
      },
      enqueueCounted: (sql: string, params?: readonly unknown[]) => {
        const statement = this.statement(sql, params);
        this.unsent.push(statement);
        this.counted.add(statement);
        return async () => {
          if (!this.answers.has(statement)) this.flushUnsent();
          return (await this.answers.get(statement)!).rowCount ?? 0;
        };
      },
    };
  }

  /** Writes what is queued and COMMIT together; throws when any of it failed (nothing committed). */
  async commit(): Promise<void> {
    const result = await this.send({ text: 'COMMIT' });
    // COMMIT of an aborted transaction answers ROLLBACK without an error.
    if ((result as { command?: string }).command === 'ROLLBACK') {
      throw this.failure ?? new IllegalStateError('PostgreSQL rolled the transaction back at COMMIT');
    }
  }

  async rollback(): Promise<void> {
    this.unsent = [];
    if (this.began) await this.client.query({ text: 'ROLLBACK' });
  }

  private statement(sql: string, params?: readonly unknown[]): Statement {
    return this.rewriter.statement(sql, params);
  }

  /** Writes the queued statements and `last` in one go; answers `last`, or the first failure. */
  private async send<R>(last: Statement): Promise<PostgresQueryResult<R>> {
    const sent = this.writeUnsent(last);
    const answer = sent[sent.length - 1] as Promise<PostgresQueryResult<R>>;
    const settled = await Promise.allSettled(sent);
    for (const s of settled) if (s.status === 'rejected') throw this.failure ?? s.reason;
    return answer;
  }

  /**
   * The client as user code sees it: its own `query` first writes what Concord queued
   * (BEGIN included), so user statements always run inside the transaction and after
   * Concord's earlier writes.
   */
  private guardedHandle(): PostgresPoolClient {
    const client = this.client as unknown as Record<PropertyKey, unknown>;
    return new Proxy(client, {
      get: (target, property) => {
        if (property === 'query') {
          return (...args: unknown[]) => {
            this.flushUnsent();
            return (target.query as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        const value = target[property];
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as unknown as PostgresPoolClient;
  }

  /** Sends what is queued without waiting; a failure surfaces on the next statement of the transaction. */
  private flushUnsent(): void {
    if (this.unsent.length === 0) return;
    for (const sent of this.writeUnsent()) sent.catch((error: unknown) => (this.failure ??= error));
  }

  /** Writes what is queued (and `last`), corked into one socket write with whatever else this job sends; the answers in order. */
  private writeUnsent(last?: Statement): Array<Promise<PostgresQueryResult<unknown>>> {
    const statements = last ? [...this.unsent, last] : this.unsent;
    this.unsent = [];
    this.began = true;
    // Corked until the current job ends: statements sent at once by concurrent callers (a
    // batch's prefetched reads) leave in one socket write too.
    if (!this.corked) {
      const stream = (this.client as CorkableClient).connection?.stream;
      stream?.cork?.();
      this.corked = true;
      queueMicrotask(() => {
        this.corked = false;
        stream?.uncork?.();
      });
    }
    return statements.map((s) => {
      const answer = this.client.query(s);
      if (this.counted.has(s)) this.answers.set(s, answer);
      return answer;
    });
  }
}
