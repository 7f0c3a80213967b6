import { existsSync } from 'node:fs';
import { AdminToken } from '@concord/http';
import { serviceAvailable, services } from '@concord/core/testing';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInventory, type RunningInventory } from '../src/inventory-app.js';
import { REDIS_URL, testLogger, testPlace, type TestPlace } from './inventory-fixture.js';
import { InventoryClient } from './inventory-client.js';

const CHROMIUM = '/usr/bin/chromium';
if (process.env.CI && !existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
const ready = (await serviceAvailable(services.mariadb)) && (await serviceAvailable(services.redis)) && existsSync(CHROMIUM);
if (!existsSync(CHROMIUM)) console.warn(`[concord] skipping the console browser test: ${CHROMIUM} is missing`);

describe.skipIf(!ready)('the reconciliation console in a browser', () => {
  let place: TestPlace;
  let app: RunningInventory;
  let browser: Browser;
  beforeAll(async () => {
    place = testPlace('console');
    const config = { port: 0, host: '127.0.0.1', databaseUrl: place.databaseUrl, redisUrl: REDIS_URL, redisPrefix: place.redisPrefix, reconcileIntervalMinutes: 0, stockCheckIntervalMs: 100 };
    app = await startInventory(config, testLogger(), AdminToken.parse('erin:c0nsole'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await place?.drop();
  });

  it('shows what needs a person, and records their decision with the note and the token name', async () => {
    const admin = new InventoryClient(app.url, 'c0nsole');
    const { productId } = await admin.ok('POST', '/products', { name: 'kettle', stock: 9 });
    const keys = app.services.stock.keys;
    await place.redis.multi().hset(keys.ledger(productId), 'till-error-3', '-2').decrby(keys.stock(productId), 2).exec();
    const [item] = (await admin.ok('POST', '/admin/reconcile')).needsPerson;

    const page = await browser.newPage();
    await page.goto(`${app.url}/console#token=c0nsole`);
    const row = page.locator(`tr[data-item="${item.itemId}"]`);
    await row.locator('code', { hasText: 'till-error-3' }).waitFor();
    await row.locator('select.decision').selectOption('reverse');
    await row.locator('input.note').fill('till miscounted; kettles on the shelf');
    await row.locator('button.resolve').click();
    await page.getByText('nothing waits for a person').waitFor();
    await page.locator('#actions td', { hasText: 'till miscounted; kettles on the shelf' }).waitFor();

    const [resolved] = (await admin.ok('GET', '/admin/reconcile/items?state=RESOLVED')).items;
    expect(resolved).toMatchObject({ itemId: item.itemId, resolvedBy: 'erin', resolution: 'reverse', note: 'till miscounted; kettles on the shelf' });
    expect((await admin.ok('GET', `/products/${productId}`)).stock).toBe(9);
    await page.close();
  });
});
