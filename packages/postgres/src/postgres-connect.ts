import pg, { type PoolClient } from 'pg';
import { InvalidArgumentError } from '@concord/core';
import { ensurePostgresDatabase } from './postgres-database.js';
import { PostgresDriver } from './postgres-driver.js';
import type { PostgresConnectionOptions } from './postgres-options.js';
import type { PostgresPool, PostgresPoolClient } from './postgres-pool.js';

/**
 * Opens a driver from a connection string (creating the pool, and the database if asked) or
 * from a pool. `what` names the caller in the messages of argument errors.
 */
export async function openPostgresDriver<C extends PostgresPoolClient = PoolClient>(
  options: PostgresConnectionOptions<C>,
  what = 'openPostgresDriver',
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
