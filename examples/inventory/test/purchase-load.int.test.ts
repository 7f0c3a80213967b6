import { eventually, serviceAvailable, services } from '@concord/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InventoryServices } from '../src/inventory-services.js';
import type { Purchase } from '../src/purchase-service/purchase-repository.js';
import { loseRedisData, pendingCount, startServices, testPlace, type TestPlace } from './inventory-fixture.js';

const ready = (await serviceAvailable(services.mariadb)) && (await serviceAvailable(services.redis));

/** Waits until none of `ids` is PENDING (one query a round), then reads them all. */
async function allFinal(app: InventoryServices, ids: readonly number[], timeoutMs = 60_000): Promise<Purchase[]> {
  await eventually(() => pendingCount(app, ids).then((n) => n === 0), timeoutMs, 100);
  return Promise.all(ids.map((id) => app.purchases.getPurchase(id)));
}

describe.skipIf(!ready)('purchases under load', () => {
  let place: TestPlace;
  let app: InventoryServices;
  beforeAll(async () => {
    place = testPlace('load');
    app = await startServices(place);
  });
  afterAll(async () => {
    await app?.stop();
    await place?.drop();
  });

  it('1,000 concurrent purchases against 100 units: exactly 100 confirmed, none oversold', async () => {
    const productId = await app.purchases.createProduct('widget', 100);
    const ids = await Promise.all(Array.from({ length: 1_000 }, () => app.purchases.purchase({ productId, quantity: 1 })));
    const finals = await allFinal(app, ids);
    const confirmed = finals.filter((p) => p.state === 'CONFIRMED');
    expect(confirmed).toHaveLength(100);
    expect(finals.filter((p) => p.state === 'REJECTED' && p.rejectionReason === 'OUT_OF_STOCK')).toHaveLength(900);
    const product = await app.purchases.product(productId);
    expect(product.sold).toBe(confirmed.reduce((sum, p) => sum + p.quantity, 0));
    expect(product.stock).toBe(0);
    expect(product.stock + product.sold).toBe(100);
  });

  it('Redis emptied in the middle of a purchase load: rebuilt from MySQL, nothing oversold, stock and sales agree', async () => {
    const productId = await app.purchases.createProduct('gadget', 150);
    await app.purchases.restock(productId, 50);
    const quantities = Array.from({ length: 400 }, (_, i) => 1 + (i % 3));
    const first = await Promise.all(quantities.slice(0, 200).map((quantity) => app.purchases.purchase({ productId, quantity })));
    // Wait until the Stock service is busy deciding them, then lose everything Redis holds.
    await eventually(async () => (await app.purchases.getPurchase(first[20]!)).state !== 'PENDING', 30_000);
    const rebuildsBefore = app.guardian.rebuilds;
    expect(await loseRedisData(place.redis, place.redisPrefix)).toBeGreaterThan(0);
    const second = await Promise.all(quantities.slice(200).map((quantity) => app.purchases.purchase({ productId, quantity })));
    const finals = await allFinal(app, [...first, ...second]);
    expect(app.guardian.rebuilds).toBeGreaterThan(rebuildsBefore);
    const sold = finals.filter((p) => p.state === 'CONFIRMED').reduce((sum, p) => sum + p.quantity, 0);
    const product = await app.purchases.product(productId);
    expect(product.sold).toBe(sold);
    expect(product.stock).toBeGreaterThanOrEqual(0);
    expect(product.stock + product.sold).toBe(200);
    // Nothing left that a smaller order could still have had: rejected only when it did not fit.
    const smallestRejected = Math.min(...finals.filter((p) => p.state === 'REJECTED').map((p) => p.quantity));
    expect(product.stock).toBeLessThan(smallestRejected);
    const report = await app.reconciler.reconcile('test');
    expect(report.drifted).toEqual([]);
    expect(report.needsPerson).toEqual([]);
  });
});
