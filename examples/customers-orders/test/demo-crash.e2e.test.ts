import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DemoClient, waitUntil } from './demo-client.js';
import { spawnDemo, type DemoProcess } from './demo-process.js';

const dir = mkdtempSync(join(tmpdir(), 'concord-demo-crash-'));
const started: DemoProcess[] = [];
afterAll(async () => {
  for (const demo of started) await demo.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function startDemo(): Promise<{ demo: DemoProcess; api: DemoClient }> {
  const demo = await spawnDemo({ CONCORD_DATA_DIR: dir }, { readyTimeoutMs: 60_000, echoStderr: true });
  started.push(demo);
  return { demo, api: new DemoClient(demo.url) };
}

describe('the demo killed with SIGKILL mid-saga', () => {
  it('completes every saga after a restart, with credit consistent', async () => {
    const first = await startDemo();
    const customerId = await first.api.createCustomer('Crash', '30.00');
    // Hold the customer service's database write lock: its participant cannot answer, so the
    // sagas are certainly in flight when the process is killed.
    const customerDb = new Database(join(dir, 'customer-service.db'));
    customerDb.exec('BEGIN IMMEDIATE');
    const ids = await Promise.all(Array.from({ length: 60 }, () => first.api.createOrder(customerId, '1.00')));
    const orderDb = new Database(join(dir, 'order-service.db'), { readonly: true });
    const running = () =>
      (orderDb.prepare(`SELECT COUNT(*) AS n FROM concord_saga_instances WHERE status = 'RUNNING'`).get() as { n: number }).n;
    await waitUntil(async () => running() === 60);
    await first.demo.stop('SIGKILL');
    orderDb.close();
    customerDb.exec('COMMIT');
    customerDb.close();

    const second = await startDemo();
    const finals = await waitUntil(async () => {
      const orders = await Promise.all(ids.map((id) => second.api.order(id)));
      return orders.every((o) => o.orderState !== 'PENDING') ? orders : undefined;
    }, 60_000);
    expect(finals.filter((o) => o.orderState === 'APPROVED')).toHaveLength(30);
    expect(finals.filter((o) => o.rejectionReason === 'INSUFFICIENT_CREDIT')).toHaveLength(30);
    expect((await second.api.call('GET', `/customers/${customerId}`)).body.availableCredit).toEqual({ amount: '0.00' });
    const sagas = await Promise.all(ids.map((id) => second.api.call('GET', `/sagas/create-order-${id}`)));
    expect(sagas.every((s) => ['COMPLETED', 'COMPENSATED'].includes(s.body.status as string))).toBe(true);
    await second.demo.stop('SIGKILL');
  });
});
