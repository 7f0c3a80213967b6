import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DemoClient, waitUntil } from './demo-client.js';
import { spawnDemo } from './demo-process.js';

const dir = mkdtempSync(join(tmpdir(), 'concord-shutdown-'));
const kill: Array<() => void> = [];
afterAll(() => {
  for (const k of kill) k();
  rmSync(dir, { recursive: true, force: true });
});

describe('npm start stopped with SIGTERM while taking orders', () => {
  it('answers or refuses each request cleanly, exits 0 in time, and loses no order it answered for', async () => {
    const first = await spawnDemo({ CONCORD_DATA_DIR: dir });
    kill.push(() => first.child.kill('SIGKILL'));
    const api = new DemoClient(first.url);
    const customerId = await api.createCustomer('Shutdown', '1000.00');
    await api.awaitFinal(await api.createOrder(customerId, '1.00'));

    const exited = new Promise<number | null>((r) => first.child.once('exit', (code) => r(code)));
    const calls = Array.from({ length: 80 }, (_, i) =>
      new Promise((r) => setTimeout(r, i)).then(() =>
        api.call('POST', '/orders', { customerId, orderTotal: { amount: '1.00' } }).then(
          (r) => r,
          () => undefined, // refused: the listener had already closed
        ),
      ),
    );
    setTimeout(() => first.child.kill('SIGTERM'), 20);
    const answers = await Promise.all(calls);
    expect(await exited).toBe(0);
    expect(answers.filter((a) => a && a.status >= 500)).toEqual([]);
    expect(first.stderr()).not.toMatch(/"level":(50|60)/);
    const answered = answers.filter((a) => a?.status === 200).map((a) => a!.body.orderId as number);

    const second = await spawnDemo({ CONCORD_DATA_DIR: dir });
    kill.push(() => second.child.kill('SIGKILL'));
    const again = new DemoClient(second.url);
    const finals = await waitUntil(async () => {
      const orders = await Promise.all(answered.map((id) => again.order(id)));
      return orders.every((o) => o.orderState === 'APPROVED') ? orders : undefined;
    }, 60_000);
    expect(finals).toHaveLength(answered.length);
    const all = (await again.call('GET', '/orders')).body.orders as unknown[];
    const available = (await again.call('GET', `/customers/${customerId}`)).body.availableCredit.amount as string;
    // Every order in the database was either answered for, or never committed: credit matches them all.
    expect(Number(available)).toBe(1000 - (all.length));
    const stop = new Promise<number | null>((r) => second.child.once('exit', (code) => r(code)));
    second.child.kill('SIGTERM');
    expect(await stop).toBe(0);
  }, 120_000);
});
