import type { ClientConfig, PoolClient } from 'pg';
import { SqlStore, type Transaction } from '@concord/core';
import { migrateOrClose, type SqlStoreOptions } from '@concord/core/spi';
import { openPostgresDriver } from './postgres-connect.js';
import type { PostgresDriver } from './postgres-driver.js';
import type { PostgresStoreOptions } from './postgres-options.js';
import type { PostgresPoolClient } from './postgres-pool.js';

/** How to open a replication (or other dedicated) connection to the same database. */
export type PostgresConnectionConfig = string | ClientConfig;

/** A PostgreSQL store's transaction: `tx.handle` is the pool client (a saga's `.transactionType<PostgresTransaction>()`). */
export type PostgresTransaction<C extends PostgresPoolClient = PoolClient> = Transaction<C>;

/** A `SqlStore` on PostgreSQL, with the driver and connection details the relays need. */
export class PostgresStore<C extends PostgresPoolClient = PoolClient> extends SqlStore<C> {
  declare readonly driver: PostgresDriver<C>;

  constructor(
    driver: PostgresDriver<C>,
    options: SqlStoreOptions = {},
    /** Set when the store was opened from a URL; the tailing relay opens its replication connection with it. */
    readonly connectionConfig?: PostgresConnectionConfig,
  ) {
    super(driver, options);
  }

  get schema(): string {
    return this.driver.schema;
  }

  /**
   * Takes each row's position only after the transaction has its id (`CASE` evaluates the
   * condition first; `pg_current_xact_id()` assigns the id if there is none yet). The relay's
   * floor relies on it (see UnsentFloor): a transaction that holds a position below a
   * committed one already had its id when that one committed.
   */
  protected override outboxInsertSql(columns: readonly string[], rows: number): string {
    const position = `CASE WHEN pg_current_xact_id() IS NOT NULL THEN nextval('${this.schema}.outbox_position_seq') END`;
    const row = `(${position}, ${columns.map(() => '?').join(', ')})`;
    return (
      `INSERT INTO ${this.t('outbox')} (position, ${columns.join(', ')}) OVERRIDING SYSTEM VALUE ` +
      `VALUES ${new Array(rows).fill(row).join(', ')}`
    );
  }

  protected override async markSent(positions: readonly number[]): Promise<void> {
    if (positions.length === 0) return;
    // One statement with an array parameter instead of IN lists of 500.
    await this.driver.run((exec) =>
      exec.execute(`UPDATE ${this.t('outbox')} SET sent_at = ? WHERE position = ANY(?::bigint[]) AND sent_at IS NULL`, [
        this.now(),
        positions,
      ]),
    );
  }
}

/**
 * Opens a service's store on PostgreSQL and applies its migrations (creating the schema, and
 * with `createDatabase` the database itself). The transaction handle is the `pg` client.
 */
export async function openPostgresStore<C extends PostgresPoolClient = PoolClient>(
  options: PostgresStoreOptions<C>,
): Promise<PostgresStore<C>> {
  const driver = await openPostgresDriver(options, 'openPostgresStore');
  const store = new PostgresStore<C>(driver, options, options.connectionString);
  return migrateOrClose(store, () => store.close());
}
