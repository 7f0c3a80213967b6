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
    // 300 orders of 1.00 against 30.00 of credit, fired at once; the kill lands as soon as 30
    // are accepted, while the others are still being created and their sagas are running.
    let accepted = 0;
    let kill!: () => void;
    const thirty = new Promise<void>((resolve) => (kill = resolve));
    const posts = Array.from({ length: 300 }, () =>
      first.api.createOrder(customerId, '1.00').then(
        () => void (++accepted === 30 && kill()),
        () => undefined, // cut off by the kill: the order may or may not exist
      ),
    );
    await thirty;
    await killed(first.child);
    await Promise.all(posts);
    const db = new Database(join(dir, 'order-service.db'), { readonly: true });
    const running = db.prepare(`SELECT COUNT(*) AS n FROM concord_saga_instances WHERE status IN ('RUNNING', 'COMPENSATING')`).get() as { n: number };
    db.close();
    expect(running.n, 'the kill should land while sagas are still running').toBeGreaterThan(0);

    const second = await startDemo(port);
    const finals = await waitUntil(async () => {
      const orders = (await second.api.call('GET', '/orders')).body.orders as Array<{ orderId: number; orderState: string; rejectionReason: string | null }>;
      return orders.every((o) => o.orderState !== 'PENDING') ? orders : undefined;
    }, 60_000);
    expect(finals.length).toBeGreaterThanOrEqual(accepted);
    const approved = finals.filter((o) => o.orderState === 'APPROVED').length;
    expect(approved).toBeLessThanOrEqual(30);
    expect(finals.filter((o) => o.orderState === 'REJECTED').every((o) => o.rejectionReason === 'INSUFFICIENT_CREDIT')).toBe(true);
    const available = (await second.api.call('GET', `/customers/${customerId}`)).body.availableCredit as { amount: string };
    expect(available).toEqual({ amount: `${30 - approved}.00` });
    const sagas = await Promise.all(finals.map((o) => second.api.call('GET', `/sagas/create-order-${o.orderId}`)));
    expect(sagas.every((s) => ['COMPLETED', 'COMPENSATED'].includes(s.body.status as string))).toBe(true);
    await killed(second.child);
  });
});
