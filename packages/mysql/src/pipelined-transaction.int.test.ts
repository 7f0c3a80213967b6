import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, writeLater } from '@concord/core';
import { serviceAvailable, services } from '@concord/core/testing';
import { openMysqlStore, type MysqlStore } from './index.js';
import { createTestDatabase, type TestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.mariadb);
const DUPLICATE_KEY = 1062;

describe.skipIf(!available)('MySQL pipelined transactions (multipleStatements)', () => {
  let db: TestDatabase;
  let store: MysqlStore;
  let oneAtATime: MysqlStore;

  beforeAll(async () => {
    db = await createTestDatabase('pipeline');
    store = await openMysqlStore({ connectionString: db.uri, logger: silentLogger });
    oneAtATime = await openMysqlStore({ connectionString: db.uri, logger: silentLogger, poolOptions: { multipleStatements: false } });
    await store.driver.run((exec) => exec.execute('CREATE TABLE items (id INT PRIMARY KEY)'));
  });
  afterAll(async () => {
    await oneAtATime?.close();
    await store?.close();
    await db?.drop();
  });

  const ids = async () => (await store.driver.run((exec) => exec.query<{ id: number }>('SELECT id FROM items ORDER BY id'))).map((r) => r.id);
  const clear = () => store.driver.run((exec) => exec.execute('DELETE FROM items'));

  /** Queries this store's connections sent while `fn` ran: mysql2's own query calls, counted. */
  async function queriesDuring(s: MysqlStore, fn: () => Promise<unknown>): Promise<number> {
    const pool = s.driver.pool;
    const getConnection = pool.getConnection;
    let sent = 0;
    pool.getConnection = async () => {
      const conn = await getConnection.call(pool);
      const core = (conn as unknown as { connection: { query: (...a: unknown[]) => unknown } }).connection;
      const query = core.query;
      core.query = function (this: unknown, ...a: unknown[]) {
        sent++;
        return query.apply(this, a);
      };
      const release = conn.release;
      conn.release = () => {
        core.query = query;
        conn.release = release;
        release.call(conn);
      };
      return conn;
    };
    try {
      await fn();
    } finally {
      pool.getConnection = getConnection;
    }
    return sent;
  }

  it('a queued write that fails fails the statement it rode with and the transaction, and nothing commits', async () => {
    await clear();
    await store.driver.run((exec) => exec.execute('INSERT INTO items (id) VALUES (1)'));
    const failed = store.driver.transaction(async (exec) => {
      await exec.execute('INSERT INTO items (id) VALUES (?)', [2]);
      exec.enqueue!('INSERT INTO items (id) VALUES (?)', [1]); // duplicate key, found only when sent
      await exec.query('SELECT 1 AS one');
    });
    await expect(failed).rejects.toMatchObject({ errno: DUPLICATE_KEY });
    expect(await ids()).toEqual([1]);

    const atCommit = store.driver.transaction(async (exec) => {
      await exec.execute('INSERT INTO items (id) VALUES (?)', [3]);
      exec.enqueue!('INSERT INTO items (id) VALUES (?)', [1]); // goes out with COMMIT
    });
    await expect(atCommit).rejects.toMatchObject({ errno: DUPLICATE_KEY });
    expect(await ids()).toEqual([1]);
  });

  it('catching the failure of a queued write (as a savepoint does) still commits nothing', async () => {
    await clear();
    await store.driver.run((exec) => exec.execute('INSERT INTO items (id) VALUES (1)'));
    const caught = store.transaction(async (tx) => {
      await tx.sql.execute('INSERT INTO items (id) VALUES (?)', [5]);
      await tx
        .savepoint(async (inner) => {
          inner.sql.enqueue!('INSERT INTO items (id) VALUES (?)', [1]);
          await inner.sql.query('SELECT 1 AS one');
        })
        .catch(() => undefined);
    });
    await expect(caught).rejects.toMatchObject({ errno: DUPLICATE_KEY });
    expect(await ids()).toEqual([1]);
  });

  it("a failing statement of the caller's own, caught in a savepoint, leaves the queued writes before it and the rest to commit", async () => {
    await clear();
    await store.driver.run((exec) => exec.execute('INSERT INTO items (id) VALUES (1)'));
    await store.transaction(async (tx) => {
      tx.sql.enqueue!('INSERT INTO items (id) VALUES (?)', [6]);
      await tx
        .savepoint(async (inner) => {
          await inner.sql.execute('INSERT INTO items (id) VALUES (?)', [7]);
          await inner.sql.execute('INSERT INTO items (id) VALUES (?)', [1]); // its own duplicate
        })
        .catch((error: { errno?: number }) => expect(error.errno).toBe(DUPLICATE_KEY));
      await tx.sql.execute('INSERT INTO items (id) VALUES (?)', [8]);
    });
    expect(await ids()).toEqual([1, 6, 8]);
  });

  it("user code's statement through the connection runs inside the transaction, after Concord's queued writes", async () => {
    await clear();
    const rolledBack = store.driver.transaction(async (exec, conn) => {
      exec.enqueue!('INSERT INTO items (id) VALUES (?)', [10]);
      const [rows] = await conn.query({ sql: 'SELECT id FROM items WHERE id = 10' });
      expect(rows).toEqual([{ id: 10 }]);
      await conn.query({ sql: 'INSERT INTO items (id) VALUES (11)' });
      throw new Error('the handler fails after writing through the connection');
    });
    await expect(rolledBack).rejects.toThrow('the handler fails');
    expect(await ids()).toEqual([]);
  });

  it('sends START TRANSACTION, queued writes and COMMIT with other statements: two queries where there were six', async () => {
    await clear();
    const work = (s: MysqlStore, base: number) =>
      s.driver.transaction(async (exec) => {
        await writeLater(exec, 'INSERT INTO items (id) VALUES (?)', [base]);
        await writeLater(exec, 'INSERT INTO items (id) VALUES (?)', [base + 1]);
        const rows = await exec.query<{ n: number }>('SELECT COUNT(*) AS n FROM items WHERE id >= ?', [base]);
        expect(Number(rows[0]!.n)).toBe(2);
        await writeLater(exec, 'INSERT INTO items (id) VALUES (?)', [base + 2]);
      });
    // START TRANSACTION, two inserts and the SELECT; the third insert and COMMIT.
    expect(await queriesDuring(store, () => work(store, 20))).toBe(2);
    expect(await queriesDuring(oneAtATime, () => work(oneAtATime, 30))).toBe(6);
    expect(await ids()).toEqual([20, 21, 22, 30, 31, 32]);
  });

  it('a transaction that ran nothing sends nothing, and one of only queued writes commits them', async () => {
    await clear();
    expect(await queriesDuring(store, () => store.driver.transaction(async () => 'nothing'))).toBe(0);
    await store.driver.transaction(async (exec) => exec.enqueue!('INSERT INTO items (id) VALUES (?)', [40]));
    expect(await ids()).toEqual([40]);
  });
});
