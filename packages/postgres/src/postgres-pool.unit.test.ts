import pg, { type PoolClient } from 'pg';
import { describe, expect, it } from 'vitest';
import { PostgresDriver, type PostgresPool } from './spi.js';

describe('PostgresPool', () => {
  it('is what a pg.Pool already is: no adapter, no cast', async () => {
    const pool: PostgresPool<PoolClient> = new pg.Pool({ max: 1 });
    const driver = new PostgresDriver({ pool, schema: 'typed' });
    expect(driver.dialect.table('outbox')).toBe('typed.outbox');
    await pool.end();
  });
});
