import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoundedCounter } from '../isolation/bounded-counter.js';
import { RereadValue } from '../isolation/reread-value.js';
import { VersionFile } from '../isolation/version-file.js';
import type { SqlStore } from '../sql/sql-store.js';
import { uniqueName } from './wait.js';

export interface CountermeasuresUnderTest {
  readonly store: SqlStore;
  cleanup(): Promise<void>;
}

type OrderOp = 'create' | 'cancel';
type OrderState = { state: 'NONE' | 'PENDING' | 'CANCELLED'; total: number | null };

/** Commutative bounded updates, reread value and the version file against a real database. */
export function describeCountermeasuresConformance(
  name: string,
  factory: () => Promise<CountermeasuresUnderTest>,
): void {
  describe(`Isolation countermeasures: ${name}`, () => {
    let sut: CountermeasuresUnderTest;
    let store: SqlStore;
    const accounts = uniqueName('cm_accounts');
    const docs = uniqueName('cm_docs');

    beforeAll(async () => {
      sut = await factory();
      store = sut.store;
      const ty = store.driver.dialect.types;
      await store.driver.run(async (exec) => {
        await exec.execute(
          `CREATE TABLE ${accounts} (id ${ty.key} NOT NULL PRIMARY KEY, available ${ty.int} NOT NULL, credit_limit ${ty.int} NOT NULL)`,
        );
        await exec.execute(
          `CREATE TABLE ${docs} (id ${ty.key} NOT NULL PRIMARY KEY, body ${ty.text} NOT NULL, version ${ty.int} NOT NULL)`,
        );
      });
    });
    afterAll(async () => {
      await sut?.store.driver.run(async (exec) => {
        await exec.execute(`DROP TABLE ${accounts}`);
        await exec.execute(`DROP TABLE ${docs}`);
      });
      await sut?.cleanup();
    });

    const available = (id: string) =>
      store.driver.run(async (exec) =>
        Number(
          (
            await exec.query<{ available: number }>(`SELECT available FROM ${accounts} WHERE id = ?`, [id])
          )[0]!.available,
        ),
      );
    const account = (id: string, value: number, limit: number) =>
      store.driver.run((exec) =>
        exec.execute(`INSERT INTO ${accounts} (id, available, credit_limit) VALUES (?, ?, ?)`, [
          id,
          value,
          limit,
        ]),
      );

    it('bounded counter: concurrent reservations never take the value below its bound', async () => {
      const credit = new BoundedCounter({
        table: accounts,
        idColumn: 'id',
        column: 'available',
        min: 0,
        max: { column: 'credit_limit' },
      });
      const id = uniqueName('acc');
      await account(id, 100, 100);
      const results = await Promise.all(
        Array.from({ length: 14 }, () => store.transaction((tx) => credit.tryAdd(tx, id, -10))),
      );
      expect(results.filter(Boolean)).toHaveLength(10);
      expect(await available(id)).toBe(0);
      // Giving back more than was taken would pass the limit: refused, with a typed error.
      await store.transaction((tx) => credit.add(tx, id, 60));
      await expect(store.transaction((tx) => credit.add(tx, id, 50))).rejects.toMatchObject({
        code: 'BOUND_EXCEEDED',
      });
      expect(await available(id)).toBe(60);
    });

    it('bounded counter: the same changes in any order give the same value (commutative)', async () => {
      const credit = new BoundedCounter({ table: accounts, idColumn: 'id', column: 'available', min: 0 });
      const [a, b] = [uniqueName('acc'), uniqueName('acc')];
      await account(a, 50, 1000);
      await account(b, 50, 1000);
      for (const delta of [-30, 20, -40]) await store.transaction((tx) => credit.add(tx, a, delta));
      for (const delta of [20, -40, -30]) await store.transaction((tx) => credit.add(tx, b, delta));
      expect(await available(a)).toBe(await available(b));
    });

    it('reread value: refuses a write when the record moved since the saga read it', async () => {
      const reread = new RereadValue(store.driver.dialect, {
        table: docs,
        idColumn: 'id',
        versionColumn: 'version',
      });
      const id = uniqueName('doc');
      await store.driver.run((exec) =>
        exec.execute(`INSERT INTO ${docs} (id, body, version) VALUES (?, 'v1', 1)`, [id]),
      );
      const readAtStart = 1;
      await store.transaction(async (tx) => {
        await reread.expect(tx, id, readAtStart);
        await tx.sql.execute(`UPDATE ${docs} SET body = 'edited by another saga' WHERE id = ?`, [id]);
        await reread.bump(tx, id, readAtStart);
      });
      await expect(store.transaction((tx) => reread.expect(tx, id, readAtStart))).rejects.toMatchObject({
        code: 'STALE_VERSION',
        found: 2,
      });
      await expect(store.transaction((tx) => reread.expect(tx, uniqueName('gone'), 1))).rejects.toMatchObject(
        { code: 'STALE_VERSION', found: null },
      );
      const bumps = await Promise.allSettled(
        [1, 2, 3].map(() => store.transaction((tx) => reread.bump(tx, id, 2))),
      );
      expect(bumps.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    });

    it('version file: a cancel that arrives before its create still cancels the order', async () => {
      const orders = new VersionFile<OrderOp, { total?: number }, OrderState>(store.driver.dialect, {
        order: ['create', 'cancel'],
        initial: { state: 'NONE', total: null },
        fold: (s, op) =>
          op.operation === 'create'
            ? { state: s.state === 'CANCELLED' ? 'CANCELLED' : 'PENDING', total: op.payload.total ?? null }
            : { ...s, state: 'CANCELLED' },
      });
      const late = uniqueName('order');
      const cancelFirst = await store.transaction((tx) =>
        orders.apply(tx, late, { id: 'cancel-1', operation: 'cancel', payload: {} }),
      );
      expect(cancelFirst.state.state).toBe('CANCELLED');
      const created = await store.transaction((tx) =>
        orders.apply(tx, late, { id: 'create-1', operation: 'create', payload: { total: 40 } }),
      );
      expect(created.state).toEqual({ state: 'CANCELLED', total: 40 });
      expect(created.operations.map((o) => o.operation)).toEqual(['create', 'cancel']);
      const again = await store.transaction((tx) =>
        orders.apply(tx, late, { id: 'create-1', operation: 'create', payload: { total: 40 } }),
      );
      expect(again.duplicate).toBe(true);
      const inOrder = uniqueName('order');
      expect(
        (
          await store.transaction((tx) =>
            orders.apply(tx, inOrder, { id: 'c', operation: 'create', payload: { total: 5 } }),
          )
        ).state.state,
      ).toBe('PENDING');
      expect(
        (
          await store.transaction((tx) =>
            orders.apply(tx, inOrder, { id: 'x', operation: 'cancel', payload: {} }),
          )
        ).state.state,
      ).toBe('CANCELLED');
      await expect(
        store.transaction((tx) =>
          orders.apply(tx, inOrder, { id: 'y', operation: 'ship' as OrderOp, payload: {} }),
        ),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });
  });
}
