import { InvalidArgumentError } from '../errors.js';
import { assertName } from '../message/message-definition.js';
import type { Clock } from '../ports/clock.js';
import { systemClock } from '../ports/clock.js';
import type { Transaction } from '../ports/store.js';
import type { SqlDialect } from '../sql/sql-driver.js';

export interface RecordedOperation<K extends string, P> {
  /** Caller-assigned id (the saga id + step, or the message id): recording it twice is a no-op. */
  readonly id: string;
  readonly operation: K;
  readonly payload: P;
}

export interface VersionFileOptions<K extends string, P, S> {
  /** The business order of operations, whatever order they arrive in: e.g. ['create', 'cancel']. */
  readonly order: readonly K[];
  readonly initial: S;
  /** Folds one operation into the state. Pure: it runs again over every recorded operation. */
  readonly fold: (state: S, op: RecordedOperation<K, P>) => S;
  readonly clock?: Clock;
}

export interface VersionFileResult<K extends string, P, S> {
  /** The state every operation recorded so far gives, folded in business order. */
  readonly state: S;
  readonly operations: readonly RecordedOperation<K, P>[];
  /** The operation was recorded before (a redelivery): nothing new happened. */
  readonly duplicate: boolean;
}

/**
 * Version file (seed 003): every operation on an aggregate is recorded, in the participant's
 * database, in the same transaction as its effect; the aggregate's state is the fold of all
 * recorded operations in their business order, not in arrival order. So a cancel that arrives
 * before its create is kept, and the create, when it comes, finds it and yields a cancelled
 * order instead of a live one.
 */
export class VersionFile<K extends string, P, S> {
  private readonly rank: Map<string, number>;
  private readonly clock: Clock;

  constructor(
    private readonly d: SqlDialect,
    private readonly options: VersionFileOptions<K, P, S>,
  ) {
    if (options.order.length === 0)
      throw new InvalidArgumentError('version file: give the order of its operations');
    this.rank = new Map(options.order.map((k, i) => [k, i]));
    this.clock = options.clock ?? systemClock;
  }

  private get table() {
    return this.d.table('version_file');
  }

  /** Records `op` for `aggregateId` (once) and returns the state all recorded operations give. */
  async apply(
    tx: Transaction<unknown>,
    aggregateId: string,
    op: RecordedOperation<K, P>,
  ): Promise<VersionFileResult<K, P, S>> {
    assertName('aggregate id', aggregateId);
    if (!this.rank.has(op.operation))
      throw new InvalidArgumentError(
        `version file: unknown operation "${op.operation}" (known: ${this.options.order.join(', ')})`,
      );
    const inserted = await tx.sql.execute(
      this.d.insertIgnore(this.table, [
        'aggregate_id',
        'operation_id',
        'operation',
        'payload',
        'recorded_at',
      ]),
      [aggregateId, op.id, op.operation, JSON.stringify(op.payload ?? null), this.clock.now()],
    );
    const { state, operations } = await this.state(tx, aggregateId);
    return { state, operations, duplicate: inserted !== 1 };
  }

  /** The state of `aggregateId` from what is recorded, without recording anything. */
  async state(
    tx: Transaction<unknown>,
    aggregateId: string,
  ): Promise<{ state: S; operations: RecordedOperation<K, P>[] }> {
    const rows = await tx.sql.query<{
      operation_id: string;
      operation: string;
      payload: string;
      recorded_at: number | string;
    }>(
      `SELECT operation_id, operation, payload, recorded_at FROM ${this.table} WHERE aggregate_id = ?${this.d.forUpdate}`,
      [aggregateId],
    );
    const operations = rows
      .map((r) => ({
        id: r.operation_id,
        operation: r.operation as K,
        payload: JSON.parse(r.payload) as P,
        at: Number(r.recorded_at),
      }))
      .sort(
        (a, b) =>
          this.rank.get(a.operation)! - this.rank.get(b.operation)! || a.at - b.at || (a.id < b.id ? -1 : 1),
      )
      .map(({ id, operation, payload }) => ({ id, operation, payload }));
    return { state: operations.reduce(this.options.fold, this.options.initial), operations };
  }
}
