import { ConcordError, ConcordErrorCode, InvalidArgumentError } from '../errors.js';
import type { Transaction } from '../ports/store.js';
import { sqlIdentifier } from './sql-identifier.js';

/** The change would take the counter past a bound; nothing was written. */
export class BoundExceededError extends ConcordError {
  constructor(
    readonly id: string | number,
    readonly delta: number,
  ) {
    super(
      ConcordErrorCode.BOUND_EXCEEDED,
      `adding ${delta} to ${id} would pass its bound (or ${id} does not exist)`,
    );
    this.name = 'BoundExceededError';
  }
}

export interface BoundedCounterOptions {
  readonly table: string;
  readonly idColumn: string;
  readonly column: string;
  /** Lowest value allowed (e.g. 0 for stock or available credit). */
  readonly min?: number;
  /** Highest value allowed (e.g. the credit limit, a column name or a number). */
  readonly max?: number | { readonly column: string };
}

/**
 * Commutative updates (seed 003): a change is an increment or a decrement applied in one
 * conditional UPDATE, never a read-modify-write of a value read earlier. Any two sagas' changes
 * give the same result in either order, so a saga never overwrites another's effect, and a
 * compensation is the opposite delta. The bounds are checked by the same statement, so no
 * interleaving can take the value past them.
 */
export class BoundedCounter {
  private readonly sql: string;

  constructor(options: BoundedCounterOptions) {
    const table = sqlIdentifier('table', options.table);
    const id = sqlIdentifier('id column', options.idColumn);
    const col = sqlIdentifier('column', options.column);
    const conditions: string[] = [];
    if (options.min !== undefined) conditions.push(`${col} + ? >= ${Number(options.min)}`);
    if (typeof options.max === 'number') conditions.push(`${col} + ? <= ${Number(options.max)}`);
    else if (options.max) conditions.push(`${col} + ? <= ${sqlIdentifier('max column', options.max.column)}`);
    if (conditions.some((c) => c.includes('NaN'))) throw new InvalidArgumentError('bounds must be numbers');
    this.bounds = conditions.length;
    this.sql = `UPDATE ${table} SET ${col} = ${col} + ? WHERE ${id} = ?${conditions.map((c) => ` AND ${c}`).join('')}`;
  }

  private readonly bounds: number;

  /** Adds `delta` (negative to take away) within the bounds; false when a bound (or a missing row) refused it. */
  async tryAdd(tx: Transaction<unknown>, id: string | number, delta: number): Promise<boolean> {
    if (!Number.isFinite(delta))
      throw new InvalidArgumentError(`delta must be a finite number, got ${delta}`);
    const changed = await tx.sql.execute(this.sql, [delta, id, ...Array<number>(this.bounds).fill(delta)]);
    return changed === 1;
  }

  /** Like tryAdd, but throws BoundExceededError when refused. */
  async add(tx: Transaction<unknown>, id: string | number, delta: number): Promise<void> {
    if (!(await this.tryAdd(tx, id, delta))) throw new BoundExceededError(id, delta);
  }
}
