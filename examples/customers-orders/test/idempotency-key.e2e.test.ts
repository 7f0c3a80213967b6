import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@concord/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type RunningDemo } from '../src/demo.js';
import { DemoClient } from './demo-client.js';

describe('POST /orders Idempotency-Key bound to the request', () => {
  let demo: RunningDemo;
  let api: DemoClient;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-demo-idem-'));
    demo = await startDemo(
      { port: 0, dataDir: dir, sagaMode: 'orchestration', databaseUrl: undefined, brokerUrl: undefined },
      silentLogger,
    );
    api = new DemoClient(demo.url);
  });
  afterAll(async () => {
    await demo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 422 to a reused key with a different body, and creates nothing for it', async () => {
    const customerId = await api.createCustomer('Reuse', '10.00');
    const headers = { 'Idempotency-Key': 'reused-key-1' };
    const first = await api.call('POST', '/orders', { customerId, orderTotal: { amount: '1.00' } }, headers);
    expect(first.status).toBe(200);
    const orders = ((await api.call('GET', '/orders')).body.orders as unknown[]).length;

    const other = await api.call('POST', '/orders', { customerId, orderTotal: { amount: '2.00' } }, headers);
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(other.body.error.message).toContain('reused-key-1');
    expect(other.body.error.message).toContain('different request');
    expect(
      (
        await api.call(
          'POST',
          '/orders',
          { customerId: customerId + 1000, orderTotal: { amount: '1.00' } },
          headers,
        )
      ).status,
    ).toBe(422);

    // The same request again, money written the other accepted way: the same order.
    const again = await api.call('POST', '/orders', { orderTotal: 1, customerId }, headers);
    expect(again).toMatchObject({ status: 200, body: { orderId: first.body.orderId } });
    expect(((await api.call('GET', '/orders')).body.orders as unknown[]).length).toBe(orders);
  });
});
