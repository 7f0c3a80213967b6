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
