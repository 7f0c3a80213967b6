import { AdminToken } from '@concord/http';
import { eventually, serviceAvailable, services } from '@concord/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInventory, type RunningInventory } from '../src/inventory-app.js';
import { REDIS_URL, testLogger, testPlace, type TestPlace } from './inventory-fixture.js';
import { InventoryClient } from './inventory-client.js';

const ready = (await serviceAvailable(services.mariadb)) && (await serviceAvailable(services.redis));

describe.skipIf(!ready)('the inventory HTTP API (ARCHITECTURE.md §4)', () => {
  let place: TestPlace;
  let app: RunningInventory;
  let api: InventoryClient;
  let admin: InventoryClient;
  const purchaseFinal = (id: number) =>
    eventually(async () => {
      const p = await api.ok('GET', `/purchases/${id}`);
      return p.state !== 'PENDING' ? p : undefined;
    }, 30_000, 50);

  beforeAll(async () => {
    place = testPlace('http');
    const config = { port: 0, host: '127.0.0.1', databaseUrl: place.databaseUrl, redisUrl: REDIS_URL, redisPrefix: place.redisPrefix, reconcileIntervalMinutes: 0, stockCheckIntervalMs: 100 };
    app = await startInventory(config, testLogger(), AdminToken.parse('dana:t0ken'));
    api = new InventoryClient(app.url);
    admin = new InventoryClient(app.url, 't0ken');
  });
  afterAll(async () => {
    await app?.stop();
    await place?.drop();
  });

  it('sells what is in stock and rejects what is not', async () => {
    const { productId } = await api.ok('POST', '/products', { name: 'lamp', stock: 3 });
    expect(await api.ok('GET', `/products/${productId}`)).toEqual({ productId, name: 'lamp', stock: 3, sold: 0 });
    const { purchaseId } = await api.ok('POST', '/purchases', { productId, quantity: 2 });
    expect(await purchaseFinal(purchaseId)).toEqual({ purchaseId, productId, quantity: 2, state: 'CONFIRMED', rejectionReason: null });
    const big = await api.ok('POST', '/purchases', { productId, quantity: 2 });
    expect(await purchaseFinal(big.purchaseId)).toMatchObject({ state: 'REJECTED', rejectionReason: 'OUT_OF_STOCK' });
    expect(await api.ok('POST', `/products/${productId}/restock`, { quantity: 5 })).toEqual({ productId, name: 'lamp', stock: 6, sold: 2 });
    const unknown = await api.ok('POST', '/purchases', { productId: 999_999, quantity: 1 });
    expect(await api.ok('GET', `/purchases/${unknown.purchaseId}`)).toMatchObject({ state: 'REJECTED', rejectionReason: 'UNKNOWN_PRODUCT' });
  });

  it('keeps Idempotency-Key semantics for purchases and restocks: same key, one effect; other body, 422', async () => {
    const { productId } = await api.ok('POST', '/products', { name: 'desk', stock: 10 });
    const key = { 'idempotency-key': 'order-7-attempt' };
    const a = await api.ok('POST', '/purchases', { productId, quantity: 1 }, key);
    const b = await api.ok('POST', '/purchases', { productId, quantity: 1 }, key);
    expect(b.purchaseId).toBe(a.purchaseId);
    const other = await api.call('POST', '/purchases', { productId, quantity: 2 }, key);
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    await purchaseFinal(a.purchaseId);
    expect((await api.ok('GET', `/products/${productId}`)).sold).toBe(1);
    const restockKey = { 'idempotency-key': 'delivery-2026-11-29' };
    expect((await api.ok('POST', `/products/${productId}/restock`, { quantity: 5 }, restockKey)).stock).toBe(14);
    expect((await api.ok('POST', `/products/${productId}/restock`, { quantity: 5 }, restockKey)).stock).toBe(14);
    expect((await api.call('POST', `/products/${productId}/restock`, { quantity: 6 }, restockKey)).status).toBe(422);
  });

  it('answers bad input with 4xx and a code, never a 500', async () => {
    expect((await api.call('POST', '/products', { name: '', stock: 1 })).body.error.code).toBe('VALIDATION_FAILED');
    expect((await api.call('POST', '/purchases', { productId: 1, quantity: 0 })).status).toBe(400);
    expect((await api.call('POST', '/purchases', { productId: 'x', quantity: 1 })).status).toBe(400);
    expect((await api.call('GET', '/products/abc')).status).toBe(400);
    expect((await api.call('GET', '/products/424242')).body.error.code).toBe('PRODUCT_NOT_FOUND');
    expect((await api.call('GET', '/purchases/424242')).status).toBe(404);
    expect((await api.call('POST', '/products/424242/restock', { quantity: 1 })).status).toBe(404);
  });

  it('guards /admin/* with the token and records the token name as the actor', async () => {
    expect((await api.call('POST', '/admin/reconcile')).status).toBe(401);
    expect((await new InventoryClient(app.url, 'wrong').call('POST', '/admin/reconcile')).body.error.code).toBe('UNAUTHORIZED');
    const { productId } = await api.ok('POST', '/products', { name: 'chair', stock: 8 });
    await place.redis.set(app.services.stock.keys.stock(productId), '5');
    await place.redis.multi().hset(app.services.stock.keys.ledger(productId), 'by-hand-1', '-2').decrby(app.services.stock.keys.stock(productId), 2).exec();
    const report = await admin.ok('POST', '/admin/reconcile');
    expect(Object.keys(report)).toEqual(['checked', 'drifted', 'repaired', 'needsPerson']);
    expect(report.drifted).toContainEqual({ productId, expected: 8, found: 3 });
    expect(report.repaired).toContainEqual(expect.objectContaining({ productId, from: 3, to: 6 }));
    const item = report.needsPerson.find((i: { productId: number }) => i.productId === productId);
    expect(item).toMatchObject({ messageId: 'by-hand-1', delta: -2, state: 'OPEN' });

    expect((await admin.call('POST', `/admin/reconcile/items/${item.itemId}/resolve`, { decision: 'reverse' })).status).toBe(400);
    const resolved = await admin.ok('POST', `/admin/reconcile/items/${item.itemId}/resolve`, { decision: 'reverse', note: 'test plant, not a sale' });
    expect(resolved).toMatchObject({ state: 'RESOLVED', resolvedBy: 'dana', note: 'test plant, not a sale' });
    expect((await admin.call('POST', `/admin/reconcile/items/${item.itemId}/resolve`, { decision: 'accept', note: 'again' })).status).toBe(409);
    expect((await api.ok('GET', `/products/${productId}`)).stock).toBe(8);
    const { actions } = await admin.ok('GET', '/admin/reconcile/actions');
    expect(actions).toContainEqual(expect.objectContaining({ kind: 'RESOLVE', actor: 'dana', itemId: item.itemId, why: 'test plant, not a sale' }));
    expect(actions).toContainEqual(expect.objectContaining({ kind: 'REPAIR', actor: 'dana', productId }));
    expect((await admin.ok('GET', '/admin/reconcile/runs')).runs[0]).toMatchObject({ actor: 'dana', report });
    expect((await admin.ok('GET', '/admin/reconcile/items?state=OPEN')).items).toEqual([]);
  });

  it('serves the console page', async () => {
    const page = await api.call('GET', '/console');
    expect(page.status).toBe(200);
    expect(page.body).toContain('/admin/reconcile/items');
  });
});
