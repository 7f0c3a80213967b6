import type { PoolClient } from 'pg';
import type { SqlBrokerOptions } from '@concord/core';
import type { SqlStoreOptions } from '@concord/core/spi';
import type { PostgresDriverOptions } from './postgres-driver.js';
import type { PostgresPool, PostgresPoolClient } from './postgres-pool.js';

/**
 * Where `openPostgresStore` and `openPostgresBroker` connect: the same option names as
 * `@concord/mysql` (`connectionString`, `pool`, `poolSize`, `createDatabase`).
 */
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

export type PostgresStoreOptions<C extends PostgresPoolClient = PoolClient> = PostgresConnectionOptions<C> & SqlStoreOptions;
export type PostgresBrokerOptions<C extends PostgresPoolClient = PoolClient> = PostgresConnectionOptions<C> & SqlBrokerOptions;
