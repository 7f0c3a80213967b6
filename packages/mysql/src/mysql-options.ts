import type { PoolConnection, PoolOptions } from 'mysql2/promise';
import type { Logger, SqlBrokerOptions } from '@concord/core';
import type { SqlStoreOptions } from '@concord/core/spi';
import type { MysqlDriverOptions } from './mysql-driver.js';
import type { MysqlConnection, MysqlPool } from './mysql-pool.js';

/**
 * Where `openMysqlStore` and `openMysqlBroker` connect: the same option names as
 * `@concord/postgres` (`connectionString`, `pool`, `poolSize`, `createDatabase`).
 */
export interface MysqlConnectionOptions<C extends MysqlConnection = PoolConnection>
  extends Pick<MysqlDriverOptions<C>, 'isolationLevel' | 'maxTransactionAttempts' | 'migrationLockTimeoutSeconds' | 'clock'> {
  /** `mysql://user:password@host:3306/database`: the service's own database; Concord creates and owns the pool. */
  readonly connectionString?: string;
  /** Or your own mysql2/promise pool (made with `createMysqlPool`, or with `flags: ['-FOUND_ROWS']`). */
  readonly pool?: MysqlPool<C>;
  /** Size of the pool Concord creates from `connectionString`. Default 10. */
  readonly poolSize?: number;
  /** Create the database named in `connectionString` when it is missing. Default false. */
  readonly createDatabase?: boolean;
  /** Extra mysql2 pool options when Concord makes the pool from `connectionString`. */
  readonly poolOptions?: PoolOptions;
  readonly logger?: Logger;
}

export type MysqlStoreOptions<C extends MysqlConnection = PoolConnection> = MysqlConnectionOptions<C> & SqlStoreOptions;
export type MysqlBrokerOptions<C extends MysqlConnection = PoolConnection> = MysqlConnectionOptions<C> & SqlBrokerOptions;
