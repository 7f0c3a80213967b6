import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startDemoProcess, type DemoProcess } from '../../cli/src/testing/demo-process.js';
import { freezeTable } from '../../cli/src/testing/sqlite-fault.js';

const CHROMIUM = '/usr/bin/chromium';
// The docs' screenshots are redrawn only when asked (CONCORD_UPDATE_SCREENSHOTS=1): a test run
// must not leave the working tree changed. Otherwise they go to a temporary directory.
const SHOTS = process.env.CONCORD_UPDATE_SCREENSHOTS ? join(REPO_ROOT, 'docs', 'images') : mkdtempSync(join(tmpdir(), 'concord-console-shots-'));

async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The console in Debian's Chromium against the demo in its own process. A STUCK saga and a
 * dead letter are caused through the demo's real paths (its tables refuse writes for a while);
 * a person then signs in, resolves the one and replays the other, and reads both in timelines.
 */
if (process.env.CI && !existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
describe.skipIf(!existsSync(CHROMIUM))('operator console in a browser', () => {
  let demo: DemoProcess;
  let browser: Browser;
  let page: Page;
  let stuckSaga: string;
  let deadLetteredSaga: string;

  const admin = async (path: string) => {
    const res = await fetch(demo.url + path, { headers: { authorization: `Bearer ${demo.token}` } });
    return (await res.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const post = async (path: string, body: unknown) => {
    const res = await fetch(demo.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, number>;
  };

  beforeAll(async () => {
    demo = await startDemoProcess();
    const { customerId } = await post('/customers', { name: 'Console', creditLimit: { amount: '500.00' } });
    // 1. The customer database refuses credit reservations: ReserveCredit fails every attempt
    //    and is parked as a dead letter; its saga waits for a reply.
    const reservations = freezeTable(demo.dataDir, 'customer-service', 'example_credit_reservations', 'INSERT');
    deadLetteredSaga = `create-order-${(await post('/orders', { customerId, orderTotal: { amount: '20.00' } })).orderId}`;
    await waitFor('a dead letter', async () => ((await admin('/admin/dead-letters')).deadLetters['customer-service']?.length ?? 0) > 0);
    reservations.thaw();
    // 2. The order database refuses approvals: the next saga retries approve-order, then is STUCK.
    const approvals = freezeTable(demo.dataDir, 'order-service', 'example_orders', 'UPDATE');
    stuckSaga = `create-order-${(await post('/orders', { customerId, orderTotal: { amount: '30.00' } })).orderId}`;
    await waitFor('a STUCK saga', async () => (await admin(`/admin/sagas/${stuckSaga}`)).status === 'STUCK');
    approvals.thaw();

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (error) => console.error(`console page error: ${error.message}`));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('signs in with the token (a wrong one is refused)', async () => {
    await page.goto(`${demo.url}/console/`);
    await page.getByLabel('Admin token').fill('wrong-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/token was refused/);
    await page.getByLabel('Admin token').fill(demo.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('saga-list').locator(`tr[data-saga="${stuckSaga}"]`).waitFor();
  });

  it('finds the STUCK saga, resolves it with a note, and reads the action in its timeline', async () => {
    await page.getByRole('button', { name: 'STUCK queue' }).click();
    await page.locator(`tr[data-saga="${stuckSaga}"]`).click();
    const timeline = page.getByTestId('timeline');
    await timeline.locator('li[data-event="STUCK"]').waitFor();
    expect(await timeline.getByRole('button', { name: 'Retry' }).isEnabled()).toBe(true);
    await timeline.getByRole('button', { name: 'Resolve…' }).click();
    const dialog = page.getByRole('dialog');
    const confirm = dialog.getByRole('button', { name: 'Resolve step' });
    expect(await confirm.isDisabled()).toBe(true); // a note is required
    await dialog.locator('textarea[name="note"]').fill('Approved by hand in the ERP after the disk was replaced');
    await page.screenshot({ path: join(SHOTS, 'console-resolve-dialog.png') });
    await confirm.click();
    await timeline.locator('li[data-event="MANUAL_RESOLVE"]').waitFor();
    const resolved = timeline.locator('li[data-event="MANUAL_RESOLVE"]');
    expect(await resolved.textContent()).toContain('operator-jane');
    expect(await resolved.textContent()).toContain('Approved by hand in the ERP');
    await timeline.locator('.status.COMPLETED').waitFor();
    // Retry and resolve no longer apply to a finished saga.
    expect(await timeline.getByRole('button', { name: 'Retry' }).isDisabled()).toBe(true);
    expect(await timeline.getByRole('button', { name: 'Abort…' }).isDisabled()).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'console-stuck-resolved.png') });
    expect((await admin(`/admin/sagas/${stuckSaga}`)).status).toBe('COMPLETED');
  });

  it('replays the dead letter and sees it, then the saga finishing, in the timeline', async () => {
    await page.getByRole('button', { name: 'Dead letters' }).click();
    const row = page.locator('tr[data-letter^="customer-service:"]').first();
    await row.click();
    await page.getByText('Payload').waitFor();
    await page.screenshot({ path: join(SHOTS, 'console-dead-letter.png') });
    await row.getByRole('button', { name: 'Replay…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Replay message' }).click();
    await page.getByRole('status').waitFor();
    expect(await page.getByRole('status').textContent()).toMatch(/was sent again to customer-service/);

    await page.getByRole('button', { name: 'Sagas' }).click();
    await page.getByLabel('Search saga by id').fill(deadLetteredSaga);
    await page.getByRole('button', { name: 'Open' }).click();
    const timeline = page.getByTestId('timeline');
    await timeline.locator('li[data-event="DEAD_LETTER"]').waitFor();
    await timeline.locator('li[data-event="DEAD_LETTER_REPLAYED"]').waitFor();
    // The replayed command reaches the customer service; its reply lets the saga finish.
    await waitFor('the replayed saga to complete', async () => (await admin(`/admin/sagas/${deadLetteredSaga}`)).status === 'COMPLETED');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByTestId('saga-list').locator(`tr[data-saga="${deadLetteredSaga}"]`).click();
    await timeline.locator('li[data-event="COMPLETED"]').waitFor();
    const events = await timeline.locator('li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-event')));
    expect(events.indexOf('DEAD_LETTER')).toBeLessThan(events.indexOf('DEAD_LETTER_REPLAYED'));
    expect(events.indexOf('DEAD_LETTER_REPLAYED')).toBeLessThan(events.lastIndexOf('REPLY'));
    await page.screenshot({ path: join(SHOTS, 'console-timeline-replayed.png') });
  });

  it('shows outbox lag and rebuilds a view', async () => {
    await page.getByRole('button', { name: 'Outbox' }).click();
    await page.getByTestId('outbox').locator('td', { hasText: 'order-service' }).waitFor();
    // A few samples, so the charts have lines (relay throughput comes from /metrics).
    await page.waitForTimeout(4_500);
    expect(await page.locator('svg.chart').count()).toBe(3);
    await page.screenshot({ path: join(SHOTS, 'console-outbox.png') });
    await page.getByRole('button', { name: 'Views' }).click();
    page.once('dialog', (d) => {
      d.accept().catch(() => undefined);
    });
    await page.getByRole('button', { name: 'Rebuild' }).click();
    await page.getByText(/Rebuilt in \d+ ms/).waitFor();
    await page.getByRole('button', { name: 'Timers & locks' }).click();
    // The demo's saga deadlines are durable timers: the tab lists them (or says none are pending).
    await page.getByRole('heading', { name: 'Durable timers' }).waitFor();
    await page.locator('section:has(h2:text("Durable timers")) :is(table, p.muted)').first().waitFor();
    expect(await page.locator('section p.error').count()).toBe(0);
    await page.getByText('This service has no locks.').waitFor();
  });
});
