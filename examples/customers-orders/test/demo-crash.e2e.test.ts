import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DemoClient, waitUntil } from './demo-client.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.ts');
const dir = mkdtempSync(join(tmpdir(), 'concord-demo-crash-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function startDemo(port: number): Promise<{ child: ChildProcess; api: DemoClient }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', main], {
    env: { ...process.env, PORT: String(port), CONCORD_DATA_DIR: dir, CONCORD_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  const api = new DemoClient(`http://127.0.0.1:${port}`);
  await waitUntil(async () => (await api.call('GET', '/health')).status === 200, 60_000);
  return { child, api };
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('the demo killed with SIGKILL mid-saga', () => {
  it('completes every saga after a restart, with credit consistent', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const first = await startDemo(port);
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
    await killed(first.child);
    orderDb.close();
    customerDb.exec('COMMIT');
    customerDb.close();

    const second = await startDemo(port);
    const finals = await waitUntil(async () => {
      const orders = await Promise.all(ids.map((id) => second.api.order(id)));
      return orders.every((o) => o.orderState !== 'PENDING') ? orders : undefined;
    }, 60_000);
    expect(finals.filter((o) => o.orderState === 'APPROVED')).toHaveLength(30);
    expect(finals.filter((o) => o.rejectionReason === 'INSUFFICIENT_CREDIT')).toHaveLength(30);
    expect((await second.api.call('GET', `/customers/${customerId}`)).body.availableCredit).toEqual({ amount: '0.00' });
    const sagas = await Promise.all(ids.map((id) => second.api.call('GET', `/sagas/create-order-${id}`)));
    expect(sagas.every((s) => ['COMPLETED', 'COMPENSATED'].includes(s.body.status as string))).toBe(true);
    await killed(second.child);
  });
});
