import pg, { type ClientConfig, type PoolClient } from 'pg';
import { InvalidArgumentError, SqlStore, type SqlBrokerOptions, type Transaction } from '@concord/core';
import { type SqlStoreOptions } from '@concord/core/spi';
import { PostgresBroker } from './postgres-broker.js';
import { ensurePostgresDatabase } from './postgres-database.js';
import { PostgresDriver, type PostgresDriverOptions } from './postgres-driver.js';
import type { PostgresPool, PostgresPoolClient } from './postgres-pool.js';

export interface PostgresConnectionOptions<C extends PostgresPoolClient = PoolClient>
  extends Omit<PostgresDriverOptions<C>, 'pool' | 'ownsPool'> {
  /** `postgres://user:pass@host:port/database`; Concord creates and owns the pool. */
  readonly connectionString?: string;
  /** Or your own pool (Concord does not end it). One of the two is required. */
  readonly pool?: PostgresPool<C>;
  /** Size of the pool Concord creates from `connectionString`. Default 10. */
  readonly poolSize?: number;
  /** Create the database named in `connectionString` when it is missing. Default false. */
  readonly createDatabase?: boolean;
}

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

async function openDriver<C extends PostgresPoolClient>(
  options: PostgresConnectionOptions<C>,
  what: string,
): Promise<PostgresDriver<C>> {
  if (!options.pool && !options.connectionString) {
    throw new InvalidArgumentError(`${what}: give either connectionString or pool`);
  }
  if (options.createDatabase) {
    if (!options.connectionString) throw new InvalidArgumentError(`${what}: createDatabase needs connectionString`);
    await ensurePostgresDatabase(options.connectionString);
  }
  const ownsPool = !options.pool;
  const pool =
    options.pool ??
    // Pipeline mode: statements a transaction queues go out together (see PipelinedTransaction).
    (new pg.Pool({ connectionString: options.connectionString, max: options.poolSize ?? 10, pipeline: true }) as unknown as PostgresPool<C>);
  return new PostgresDriver<C>({ ...options, pool, ownsPool });
}

export type PostgresStoreOptions<C extends PostgresPoolClient = PoolClient> = PostgresConnectionOptions<C> & SqlStoreOptions;

/**
 * Opens a service's store on PostgreSQL and applies its migrations (creating the schema, and
 * with `createDatabase` the database itself). The transaction handle is the `pg` client.
 */
export async function openPostgresStore<C extends PostgresPoolClient = PoolClient>(
  options: PostgresStoreOptions<C>,
): Promise<PostgresStore<C>> {
  const driver = await openDriver(options, 'openPostgresStore');
  const store = new PostgresStore<C>(driver, options, options.connectionString);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

export type PostgresBrokerOptions<C extends PostgresPoolClient = PoolClient> = PostgresConnectionOptions<C> & SqlBrokerOptions;

/**
 * Opens the in-database broker on PostgreSQL: partitioned channels, consumer groups with
 * partition leases, woken across processes by LISTEN/NOTIFY.
 */
export async function openPostgresBroker<C extends PostgresPoolClient = PoolClient>(
  options: PostgresBrokerOptions<C>,
): Promise<PostgresBroker<C>> {
  const driver = await openDriver(options, 'openPostgresBroker');
  const broker = new PostgresBroker<C>(driver, options);
  try {
    await broker.migrate();
  } catch (error) {
    await driver.close();
    throw error;
  }
  return broker;
}
