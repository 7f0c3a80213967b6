import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@concord/core';
import { serviceAvailable, services } from '@concord/core/testing';
import { openPostgresStore, type PostgresStore } from './index.js';
import { createTestDatabase, type TestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.postgres);

describe.skipIf(!available)('postgres pipelined transactions', () => {
  let db: TestDatabase;
  let store: PostgresStore;

  beforeAll(async () => {
    db = await createTestDatabase('pipeline');
    store = await openPostgresStore({ connectionString: db.url, schema: 'pipeline', logger: silentLogger });
    await store.driver.run((exec) => exec.execute('CREATE TABLE pipeline.items (id INT PRIMARY KEY)'));
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  const count = async () => Number((await store.driver.run((exec) => exec.query<{ n: string }>('SELECT count(*) AS n FROM pipeline.items')))[0]!.n);

  it('a queued write that fails fails the transaction with its own error, and nothing commits', async () => {
    await store.driver.run((exec) => exec.execute('INSERT INTO pipeline.items (id) VALUES (1)'));
    const failed = store.driver.transaction(async (exec) => {
      await exec.execute('INSERT INTO pipeline.items (id) VALUES (?)', [2]);
      exec.enqueue!('INSERT INTO pipeline.items (id) VALUES (?)', [1]); // duplicate key, found only when sent
      await exec.query('SELECT 1 AS one');
    });
    await expect(failed).rejects.toMatchObject({ code: '23505' });
    expect(await count()).toBe(1);

    const atCommit = store.driver.transaction(async (exec) => {
      await exec.execute('INSERT INTO pipeline.items (id) VALUES (?)', [3]);
      exec.enqueue!('INSERT INTO pipeline.items (id) VALUES (?)', [1]); // goes out with COMMIT
    });
    await expect(atCommit).rejects.toMatchObject({ code: '23505' });
    expect(await count()).toBe(1);
  });

  it("user code's first statement through the client runs inside the transaction (BEGIN is sent first)", async () => {
    const rolledBack = store.driver.transaction(async (_exec, client) => {
      await client.query({ text: 'INSERT INTO pipeline.items (id) VALUES (10)' });
      throw new Error('the handler fails after writing through the client');
    });
    await expect(rolledBack).rejects.toThrow('the handler fails');
    const rows = await store.driver.run((exec) => exec.query('SELECT id FROM pipeline.items WHERE id = 10'));
    expect(rows).toEqual([]);
  });
});
