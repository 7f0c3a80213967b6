import { eventually, serviceAvailable, services } from '@concord/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInventoryError } from '../src/inventory-errors.js';
import type { InventoryServices } from '../src/inventory-services.js';
import { reconcileLog } from '../src/reconcile/reconcile-log.js';
import { startInventoryServices } from '../src/inventory-services.js';
import { REDIS_URL, loseRedisData, pendingCount, startServices, testLogger, testPlace, type TestPlace } from './inventory-fixture.js';

const ready = (await serviceAvailable(services.mariadb)) && (await serviceAvailable(services.redis));

describe.skipIf(!ready)('reconciliation', () => {
  let place: TestPlace;
  let app: InventoryServices;
  let productId: number;
  const stockKey = () => app.stock.keys.stock(productId);
  const ledgerKey = () => app.stock.keys.ledger(productId);
  const actions = () => app.store.transaction((tx) => reconcileLog.actions(tx.handle, 100));

  beforeAll(async () => {
    place = testPlace('reconcile');
    app = await startServices(place);
    productId = await app.purchases.createProduct('bolt', 50);
    const ids = await Promise.all(Array.from({ length: 5 }, () => app.purchases.purchase({ productId, quantity: 2 })));
    await eventually(async () => (await pendingCount(app, ids)) === 0, 30_000);
  });
  afterAll(async () => {
    await app?.stop();
    await place?.drop();
  });

  it('finds nothing to do when Redis agrees with MySQL', async () => {
    expect(await app.reconciler.reconcile('alice')).toEqual({ checked: 1, drifted: [], repaired: [], needsPerson: [] });
  });

  it('reports a count changed by hand in Redis and repairs it, logging who, when and why', async () => {
    await place.redis.set(stockKey(), '77');
    const report = await app.reconciler.reconcile('alice');
    expect(report.drifted).toEqual([{ productId, expected: 40, found: 77 }]);
    expect(report.repaired).toMatchObject([{ productId, from: 77, to: 40 }]);
    expect(report.needsPerson).toEqual([]);
    expect((await app.purchases.product(productId)).stock).toBe(40);
    const [repair] = await actions();
    expect(repair).toMatchObject({ kind: 'REPAIR', actor: 'alice', productId });
    expect(repair!.why).toMatch(/Redis held 77.*prove 40/);
    expect((await app.reconciler.reconcile('alice')).drifted).toEqual([]);
  });

  it('restores a ledger entry Redis lost for a purchase MySQL confirmed', async () => {
    const [entry] = Object.keys(await place.redis.hgetall(ledgerKey())).filter((id) => id.startsWith('purchase-'));
    await place.redis.hdel(ledgerKey(), entry!);
    const report = await app.reconciler.reconcile('alice');
    expect(report.drifted).toEqual([]);
    expect(report.repaired).toMatchObject([{ productId, from: 40, to: 40, restoredEntries: [entry] }]);
    expect(await place.redis.hget(ledgerKey(), entry!)).toBe('-2');
  });

  it('lists a deduction with no purchase behind it for a person, once, and records the decision to reverse it', async () => {
    await place.redis.multi().hset(ledgerKey(), 'mystery-1', '-3').decrby(stockKey(), 3).exec();
    const report = await app.reconciler.reconcile('alice');
    expect(report.drifted).toEqual([{ productId, expected: 40, found: 37 }]);
    expect(report.repaired).toEqual([]);
    expect(report.needsPerson).toMatchObject([{ productId, messageId: 'mystery-1', delta: -3, reason: 'UNKNOWN_LEDGER_ENTRY', state: 'OPEN' }]);
    const again = await app.reconciler.reconcile('alice');
    expect(again.needsPerson.map((i) => i.itemId)).toEqual([report.needsPerson[0]!.itemId]);

    const resolved = await app.reconciler.resolve(report.needsPerson[0]!.itemId, 'reverse', 'no such sale in the shop log; units are on the shelf', 'bob');
    expect(resolved).toMatchObject({ state: 'RESOLVED', resolvedBy: 'bob', resolution: 'reverse', note: 'no such sale in the shop log; units are on the shelf' });
    expect((await app.purchases.product(productId)).stock).toBe(40);
    const [decision] = await actions();
    expect(decision).toMatchObject({ kind: 'RESOLVE', actor: 'bob', why: 'no such sale in the shop log; units are on the shelf' });
    expect(await app.reconciler.reconcile('alice')).toEqual({ checked: 1, drifted: [], repaired: [], needsPerson: [] });
    const error = await app.reconciler.resolve(resolved.itemId, 'accept', 'twice', 'bob').catch((e: unknown) => e);
    expect(isInventoryError(error, 'ITEM_ALREADY_RESOLVED')).toBe(true);
  });

  it('keeps an accepted entry as part of the record, also when Redis is rebuilt', async () => {
    await place.redis.multi().hset(ledgerKey(), 'shrinkage-1', '-4').decrby(stockKey(), 4).exec();
    const [item] = (await app.reconciler.reconcile('alice')).needsPerson;
    await app.reconciler.resolve(item!.itemId, 'accept', 'four bolts broken in the stockroom', 'carol');
    expect(await app.reconciler.reconcile('alice')).toEqual({ checked: 1, drifted: [], repaired: [], needsPerson: [] });
    await loseRedisData(place.redis, place.redisPrefix);
    await eventually(async () => (await app.purchases.product(productId).catch(() => undefined))?.stock === 36, 20_000);
    expect(await app.reconciler.reconcile('alice')).toEqual({ checked: 1, drifted: [], repaired: [], needsPerson: [] });
  });
});

describe.skipIf(!ready)('scheduled reconciliation', () => {
  it('runs every interval as "scheduler" and repairs what it can prove', async () => {
    const place = testPlace('schedule');
    // 0.005 minutes: a run every 300 ms, so the test sees one without waiting minutes.
    const app = await startInventoryServices(
      { databaseUrl: place.databaseUrl, redisUrl: REDIS_URL, redisPrefix: place.redisPrefix, reconcileIntervalMinutes: 0.005, stockCheckIntervalMs: 100 },
      testLogger(),
    );
    try {
      const productId = await app.purchases.createProduct('nut', 12);
      await place.redis.set(app.stock.keys.stock(productId), '3');
      await eventually(async () => (await app.purchases.product(productId)).stock === 12, 20_000, 100);
      // The repaired stock can be read a moment before the repair's log row commits.
      const log = await eventually(async () => {
        const actions = await app.store.transaction((tx) => reconcileLog.actions(tx.handle, 10));
        return actions.some((a) => a.kind === 'REPAIR') ? actions : undefined;
      }, 5_000);
      expect(log).toContainEqual(expect.objectContaining({ kind: 'REPAIR', actor: 'scheduler', productId }));
    } finally {
      await app.stop();
      await place.drop();
    }
  });
});
