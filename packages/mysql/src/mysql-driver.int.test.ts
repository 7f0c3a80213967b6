import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@concord/core';
import { appliedMigrations, storeMigrations } from '@concord/core/spi';
import { counterEvent, serviceAvailable, services, uniqueName } from '@concord/core/testing';
import {
  MysqlConfigError,
  MysqlConfigReason,
  createMysqlPool,
  isMysqlConfigError,
  openMysqlStore,
  type MysqlStore,
} from './index.js';
import { openMysqlDriver } from './spi.js';
import { createTestDatabase, TEST_SERVER_URI, type TestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.mariadb);

describe.skipIf(!available)('MySQL driver on the real server', () => {
  let db: TestDatabase;
  let store: MysqlStore;

  beforeAll(async () => {
    db = await createTestDatabase('driver');
    store = await openMysqlStore({ connectionString: db.uri, logger: silentLogger });
    await store.driver.run((exec) => exec.execute('CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL)'));
    await store.driver.run((exec) => exec.execute('INSERT INTO accounts VALUES (1, 100), (2, 100)'));
  });
  async function balanceOf(id: number): Promise<number> {
    const conn = await store.driver.connection();
    try {
      const [rows] = await conn.query('SELECT balance FROM accounts WHERE id = ?', [id]);
      return (rows as Array<{ balance: number }>)[0]!.balance;
    } finally {
      conn.release();
    }
  }

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('counts rows an UPDATE matched, even when it changed nothing, like PostgreSQL and SQLite', async () => {
    const same = await store.driver.run((exec) => exec.execute('UPDATE accounts SET balance = balance WHERE id IN (1, 2)'));
    expect(same).toBe(2);
    const none = await store.driver.run((exec) => exec.execute('UPDATE accounts SET balance = 1 WHERE id = 99'));
    expect(none).toBe(0);
  });

  it('reports 1 for a new row and 0 for a duplicate with the dialect insertIgnore', async () => {
    const d = store.driver.dialect;
    const sql = d.insertIgnore(d.table('inbox'), ['consumer', 'message_id', 'processed_at'], 2);
    const first = await store.driver.run((exec) => exec.execute(sql, ['c', 'm1', 1, 'c', 'm2', 1]));
    expect(first).toBe(2);
    const again = await store.driver.run((exec) => exec.execute(sql, ['c', 'm1', 1, 'c', 'm3', 1]));
    expect(again).toBe(1);
  });

  it('still raises errors other than a duplicate key from insertIgnore', async () => {
    const d = store.driver.dialect;
    const sql = d.insertIgnore(d.table('inbox'), ['consumer', 'message_id', 'processed_at']);
    await expect(store.driver.run((exec) => exec.execute(sql, ['c', 'x'.repeat(300), 1]))).rejects.toMatchObject({ errno: 1406 });
    await expect(store.driver.run((exec) => exec.execute(sql, ['c', null, 1]))).rejects.toMatchObject({ errno: 1048 });
  });

  it('returns BIGINT values as exact strings, never rounded', async () => {
    const rows = await store.driver.run((exec) => exec.query<{ big: unknown; n: unknown }>('SELECT 9007199254740993 AS big, COUNT(*) AS n FROM accounts'));
    expect(rows[0]).toEqual({ big: '9007199254740993', n: '2' });
  });

  it('gives user code the mysql2 connection of the transaction: its writes and the outbox commit or roll back together', async () => {
    const Counted = counterEvent(uniqueName('driver'));
    await expect(
      store.transaction(async (tx) => {
        await tx.handle.query('UPDATE accounts SET balance = balance - 10 WHERE id = 1');
        await tx.outbox.send(Counted, { key: 'a', seq: 1 });
        throw new Error('business rule');
      }),
    ).rejects.toThrow('business rule');
    expect(await balanceOf(1)).toBe(100);
    expect((await store.outbox.lag()).count).toBe(0);

    await store.transaction(async (tx) => {
      await tx.handle.query('UPDATE accounts SET balance = balance - 10 WHERE id = 1');
      await tx.outbox.send(Counted, { key: 'a', seq: 1 });
    });
    expect(await balanceOf(1)).toBe(90);
    const records = await store.outbox.fetchUnsent(10);
    expect(records).toHaveLength(1);
    await store.outbox.markSent(records.map((r) => r.position));
  });

  it('runs a transaction again after a deadlock, and both transactions take effect', async () => {
    let runs = 0;
    let bothHoldFirstLock: () => void = () => {};
    const firstLocks = new Promise<void>((resolve) => {
      let n = 0;
      bothHoldFirstLock = () => ++n === 2 && resolve();
    });
    const transfer = (from: number, to: number) =>
      store.driver.transaction(async (exec) => {
        runs++;
        await exec.execute('UPDATE accounts SET balance = balance - 1 WHERE id = ?', [from]);
        if (runs <= 2) {
          bothHoldFirstLock();
          await firstLocks;
        }
        await exec.execute('UPDATE accounts SET balance = balance + 1 WHERE id = ?', [to]);
      });
    const [before] = await store.driver.run((exec) => exec.query<{ s: string }>('SELECT SUM(balance) AS s FROM accounts'));
    await Promise.all([transfer(1, 2), transfer(2, 1)]);
    expect(runs).toBe(3);
    const [after] = await store.driver.run((exec) => exec.query<{ s: string }>('SELECT SUM(balance) AS s FROM accounts'));
    expect(after!.s).toBe(before!.s);
  });

  it('never commits a transaction whose deadlock someone caught: it runs the whole transaction again', async () => {
    await store.driver.run((exec) => exec.execute('CREATE TABLE IF NOT EXISTS effects (n INT AUTO_INCREMENT PRIMARY KEY, tag VARCHAR(20))'));
    let runs = 0;
    let release: () => void = () => {};
    const bothLocked = new Promise<void>((resolve) => {
      let n = 0;
      release = () => ++n === 2 && resolve();
    });
    const work = (tag: string, first: number, second: number) =>
      store.driver.transaction(async (exec) => {
        runs++;
        await exec.execute('INSERT INTO effects (tag) VALUES (?)', [tag]);
        await exec.execute('UPDATE accounts SET balance = balance WHERE id = ?', [first]);
        if (runs <= 2) {
          release();
          await bothLocked;
        }
        try {
          await exec.execute('UPDATE accounts SET balance = balance WHERE id = ?', [second]);
        } catch {
          // swallowed, as a handler's savepoint would
        }
      });
    await Promise.all([work('a', 1, 2), work('b', 2, 1)]);
    expect(runs).toBe(3);
    const rows = await store.driver.run((exec) => exec.query<{ tag: string }>('SELECT tag FROM effects ORDER BY tag'));
    expect(rows.map((r) => r.tag)).toEqual(['a', 'b']);
  });

  it('serializes concurrent migrations with GET_LOCK: many processes starting at once apply each version once', async () => {
    const fresh = await createTestDatabase('migrate');
    try {
      const stores = await Promise.all(Array.from({ length: 4 }, () => openMysqlStore({ connectionString: fresh.uri, logger: silentLogger })));
      expect(await appliedMigrations(stores[0]!.driver, 'store')).toEqual(storeMigrations.map((m) => m.version));
      await Promise.all(stores.map((s) => s.close()));
    } finally {
      await fresh.drop();
    }
  });

  it('creates the database when asked, and refuses a URI without one', async () => {
    const name = uniqueName('concord_created');
    const uri = `${TEST_SERVER_URI}/${name}`;
    const created = await openMysqlStore({ connectionString: uri, createDatabase: true, logger: silentLogger });
    try {
      expect(created.driver.database).toBe(name);
    } finally {
      await created.close();
      const c = await mysql.createConnection({ uri: TEST_SERVER_URI });
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    }
    await expect(openMysqlStore({ connectionString: TEST_SERVER_URI, logger: silentLogger })).rejects.toSatisfy((e) =>
      isMysqlConfigError(e, MysqlConfigReason.NO_DATABASE),
    );
  });

  it('refuses a pool that reports found rows, with a typed error naming the fix', async () => {
    const pool = mysql.createPool({ uri: db.uri });
    try {
      const error = await openMysqlDriver({ pool }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MysqlConfigError);
      expect((error as MysqlConfigError).reason).toBe(MysqlConfigReason.FOUND_ROWS_FLAG);
      expect((error as MysqlConfigError).code).toBe('ILLEGAL_STATE');
    } finally {
      await pool.end();
    }
    const good = createMysqlPool(db.uri);
    const driver = await openMysqlDriver({ pool: good });
    expect(driver.database).toBe(db.name);
    await driver.close();
  });
});
