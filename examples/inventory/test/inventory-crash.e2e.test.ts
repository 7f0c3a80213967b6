import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, serviceAvailable, services } from '@concord/core/testing';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS_URL, testPlace, type TestPlace } from './inventory-fixture.js';
import { InventoryClient } from './inventory-client.js';

const ready = (await serviceAvailable(services.mariadb)) && (await serviceAvailable(services.redis));
const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.ts');
const TOKEN = 'crash-test:s3cret';
const children: ChildProcess[] = [];

/** Runs `npm run start:inventory`'s entry point as a child process on the test's own database and prefix. */
async function startChild(place: TestPlace, port: number): Promise<{ child: ChildProcess; api: InventoryClient }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', main], {
    env: {
      ...process.env,
      PORT: String(port),
      CONCORD_DATABASE_URL: place.databaseUrl,
      CONCORD_REDIS_URL: REDIS_URL,
      CONCORD_REDIS_PREFIX: place.redisPrefix,
      CONCORD_ADMIN_TOKEN: TOKEN,
      CONCORD_LOG_LEVEL: 'error',
      CONCORD_STOCK_CHECK_INTERVAL_MS: '100',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  const api = new InventoryClient(`http://127.0.0.1:${port}`, 's3cret');
  await eventually(async () => (await api.call('GET', '/health')).status === 200, 60_000, 100);
  return { child, api };
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe.skipIf(!ready)('the inventory service SIGKILLed mid-load', () => {
  const place = testPlace('crash');
  const db = mysql.createPool({ uri: place.databaseUrl, connectionLimit: 2 });
  const states = async (productId: number) => {
    const [rows] = await db.query('SELECT state, COUNT(*) AS n, COALESCE(SUM(quantity), 0) AS units FROM inventory_purchases WHERE product_id = ? GROUP BY state', [productId]);
    const out: Record<string, { n: number; units: number }> = {};
    for (const r of rows as Array<{ state: string; n: unknown; units: unknown }>) out[r.state] = { n: Number(r.n), units: Number(r.units) };
    return out;
  };
  afterAll(async () => {
    for (const child of children) await kill(child);
    await db.end();
    await place.drop();
  });

  it('finishes every purchase after a restart, with stock and sales agreeing exactly and no hand step', async () => {
    // Ports from this helper's range (18300-18399); the restart reuses the same one.
    const port = 18_300 + Math.floor(Math.random() * 100);
    const first = await startChild(place, port);
    const { productId } = await first.api.ok('POST', '/products', { name: 'crash-widget', stock: 100 });
    // Purchases keep arriving while the service is killed; those in flight may or may not have
    // been recorded, which is exactly the uncertainty a crash leaves.
    const load = Promise.allSettled(
      Array.from({ length: 300 }, (_, i) => first.api.ok('POST', '/purchases', { productId, quantity: 1 + (i % 2) })),
    );
    await eventually(async () => {
      const s = await states(productId);
      return (s.CONFIRMED?.n ?? 0) + (s.REJECTED?.n ?? 0) >= 10;
    }, 60_000, 20);
    await kill(first.child);
    const atKill = await states(productId);
    expect(atKill.PENDING?.n ?? 0).toBeGreaterThan(0); // the kill landed mid-load
    await load;

    const second = await startChild(place, port);
    await eventually(async () => ((await states(productId)).PENDING?.n ?? 0) === 0, 60_000, 100);
    const final = await states(productId);
    const product = await second.api.ok('GET', `/products/${productId}`);
    expect(product.sold).toBe(final.CONFIRMED?.units ?? 0);
    expect(product.stock).toBeGreaterThanOrEqual(0);
    expect(product.stock + product.sold).toBe(100);
    expect(await second.api.ok('POST', '/admin/reconcile')).toEqual({ checked: 1, drifted: [], repaired: [], needsPerson: [] });
    await kill(second.child);
  });
});
