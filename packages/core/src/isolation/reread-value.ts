import { ConcordError, ConcordErrorCode } from '../errors.js';
import type { Transaction } from '../ports/store.js';
import type { SqlDialect } from '../sql/sql-driver.js';
import { sqlIdentifier } from './sql-identifier.js';

/** The record changed since the saga read it (or is gone): the saga must not overwrite it. */
export class StaleVersionError extends ConcordError {
  constructor(
    readonly id: string | number,
    readonly expected: number,
    readonly found: number | null,
  ) {
    super(
      ConcordErrorCode.STALE_VERSION,
      `record ${id} is at version ${found ?? '(gone)'}, the saga read version ${expected}`,
    );
    this.name = 'StaleVersionError';
  }
}

export interface VersionedTable {
  readonly table: string;
  readonly idColumn: string;
  /** An integer column every write to the record increments. */
  readonly versionColumn: string;
}

/**
 * Reread value (seed 003, Fowler's optimistic offline lock): the saga carries the version it
 * read when it started; before the pivot (or any overwrite) the participant rereads the record
 * under a row lock and refuses when the version moved. `bump` then writes the next version in
 * the same transaction as the change.
 */
export class RereadValue {
  private readonly select: string;
  private readonly update: string;

  constructor(d: SqlDialect, target: VersionedTable) {
    const forUpdate = d.forUpdate;
    const table = sqlIdentifier('table', target.table);
    const id = sqlIdentifier('id column', target.idColumn);
    const version = sqlIdentifier('version column', target.versionColumn);
    this.select = `SELECT ${version} AS v FROM ${table} WHERE ${id} = ?${forUpdate}`;
    this.update = `UPDATE ${table} SET ${version} = ${version} + 1 WHERE ${id} = ? AND ${version} = ?`;
  }

  /** The record's version now (row-locked where the database locks rows), or null when it is gone. */
  async current(tx: Transaction<unknown>, id: string | number): Promise<number | null> {
    const rows = await tx.sql.query<{ v: number | string }>(this.select, [id]);
    return rows[0] ? Number(rows[0].v) : null;
  }

  /** Throws StaleVersionError unless the record is still at `expected`. */
  async expect(tx: Transaction<unknown>, id: string | number, expected: number): Promise<void> {
    const found = await this.current(tx, id);
    if (found !== expected) throw new StaleVersionError(id, expected, found);
  }

  /** Moves the record from `expected` to the next version; throws StaleVersionError if someone else did first. */
  async bump(tx: Transaction<unknown>, id: string | number, expected: number): Promise<number> {
    if ((await tx.sql.execute(this.update, [id, expected])) !== 1)
      throw new StaleVersionError(id, expected, await this.current(tx, id));
    return expected + 1;
  }
}
