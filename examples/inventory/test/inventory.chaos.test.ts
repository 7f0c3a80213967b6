import { execFileSync, spawnSync } from 'node:child_process';
import { eventually, serviceAvailable, services } from '@concord/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { isInventoryError } from '../src/inventory-errors.js';
import type { InventoryServices } from '../src/inventory-services.js';
import { pendingCount, startServices, testPlace, type TestPlace } from './inventory-fixture.js';

/**
 * The real Redis server shut down (without saving: this machine's Redis keeps nothing on disk
 * anyway) in the middle of a purchase load, purchases taken while it is down, and Redis started
 * again with the command from services.md, always, even when the test fails.
 */
const ready = (await serviceAvailable(services.mariadb)) && (await serviceAvailable(services.redis));
const START = ['--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', '6379', '--save', '', '--appendonly', 'no', '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/ci.log'];

const redisAnswers = () => spawnSync('redis-cli', ['-p', '6379', 'ping'], { encoding: 'utf8', timeout: 2_000 }).stdout?.trim() === 'PONG';

async function startRedis(): Promise<void> {
  if (redisAnswers()) return;
  execFileSync('redis-server', START);
  await eventually(() => redisAnswers(), 15_000, 100);
}

async function stopRedis(): Promise<void> {
  spawnSync('redis-cli', ['-p', '6379', 'shutdown', 'nosave'], { timeout: 5_000 });
  await eventually(() => !redisAnswers(), 10_000, 50);
}

describe.skipIf(!ready)('inventory chaos: the Redis server restarted empty under a purchase load', () => {
  let place: TestPlace | undefined;
  let app: InventoryServices | undefined;
  afterAll(async () => {
    await startRedis();
    await app?.stop();
    await place?.drop();
  });

  it('rebuilds from MySQL, sells nothing it no longer has, and ends with stock and sales agreeing exactly', async () => {
    place = testPlace('chaos');
    app = await startServices(place);
    const services = app;
    const productId = await services.purchases.createProduct('chaos-widget', 300);
    const ids: number[] = [];
    const buy = (n: number) =>
      Promise.all(Array.from({ length: n }, (_, i) => services.purchases.purchase({ productId, quantity: 1 + (i % 3) }))).then((got) => ids.push(...got));
    await buy(300);
    await eventually(async () => (await pendingCount(services, ids)) < 250, 60_000, 20);
    const rebuildsBefore = services.guardian.rebuilds;
    try {
      await stopRedis();
      // Purchases are still taken (MySQL only) and wait; nothing answers a count Redis does not have.
      const before = ids.length;
      await buy(200);
      expect(await pendingCount(services, ids.slice(before))).toBe(200);
      const read = await services.purchases.product(productId).catch((error: unknown) => error);
      expect(isInventoryError(read, 'STOCK_UNAVAILABLE') || isInventoryError(read, 'STOCK_NOT_READY')).toBe(true);
    } finally {
      await startRedis();
    }
    await buy(100);
    await eventually(async () => (await pendingCount(services, ids)) === 0, 120_000, 200);
    expect(services.guardian.rebuilds).toBeGreaterThan(rebuildsBefore);
    const product = await services.purchases.product(productId);
    const finals = await Promise.all(ids.map((id) => services.purchases.getPurchase(id)));
    const sold = finals.filter((p) => p.state === 'CONFIRMED').reduce((sum, p) => sum + p.quantity, 0);
    expect(product.sold).toBe(sold);
    expect(product.stock).toBeGreaterThanOrEqual(0);
    expect(product.stock + product.sold).toBe(300);
    expect(await services.reconciler.reconcile('chaos-test')).toEqual({ checked: 1, drifted: [], repaired: [], needsPerson: [] });
  });
});
