import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@concord/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SagaMode } from '../src/config.js';
import { startDemo, type RunningDemo } from '../src/demo.js';
import { DemoClient, waitUntil } from './demo-client.js';

describe.each<SagaMode>(['orchestration', 'choreography'])('customers-orders demo (%s)', (sagaMode) => {
  let demo: RunningDemo;
  let api: DemoClient;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `concord-demo-${sagaMode}-`));
    demo = await startDemo({ port: 0, dataDir: dir, sagaMode, databaseUrl: undefined, brokerUrl: undefined }, silentLogger);
    api = new DemoClient(demo.url, demo.adminToken.secret);
  });
  afterAll(async () => {
    await demo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('approves an order within credit, rejects one over it, and keeps credit and the order history right', async () => {
    const customerId = await api.createCustomer('Fred', '100.00');
    const within = await api.createOrder(customerId, '40.00');
    const over = await api.createOrder(customerId, '80.00');
    expect(await api.awaitFinal(within)).toMatchObject({ orderState: 'APPROVED', rejectionReason: null });
    expect(await api.awaitFinal(over)).toMatchObject({ orderState: 'REJECTED', rejectionReason: 'INSUFFICIENT_CREDIT' });
    expect((await api.call('GET', `/customers/${customerId}`)).body).toEqual({
      customerId,
      name: 'Fred',
      creditLimit: { amount: '100.00' },
      availableCredit: { amount: '60.00' },
    });
    const history = await waitUntil(async () => {
      const r = await api.call('GET', `/customers/${customerId}/orderhistory`);
      return r.status === 200 && Object.values(r.body.orders as object).every((o: { state: string }) => o.state !== 'PENDING') &&
        Object.keys(r.body.orders as object).length === 2
        ? r.body
        : undefined;
    });
    expect(history).toMatchObject({
      id: customerId,
      name: 'Fred',
      creditLimit: { amount: '100.00' },
      orders: {
        [within]: { orderId: within, state: 'APPROVED', orderTotal: { amount: '40.00' } },
        [over]: { orderId: over, state: 'REJECTED', orderTotal: { amount: '80.00' } },
      },
    });
    expect(history.version).toBeGreaterThanOrEqual(3);
    const orders = (await api.call('GET', '/orders')).body.orders as Array<{ orderId: number }>;
    expect(orders).toEqual(expect.arrayContaining([{ orderId: within, orderState: 'APPROVED', rejectionReason: null }]));
  });

  it('rejects an order for an unknown customer with UNKNOWN_CUSTOMER', async () => {
    const orderId = await api.createOrder(987_654, '1.00');
    expect(await api.awaitFinal(orderId)).toMatchObject({ orderState: 'REJECTED', rejectionReason: 'UNKNOWN_CUSTOMER' });
  });

  it('returns the same order for the same Idempotency-Key and creates nothing else', async () => {
    const customerId = await api.createCustomer('Idem', '10.00');
    const before = ((await api.call('GET', '/orders')).body.orders as unknown[]).length;
    const first = await api.createOrder(customerId, '1.00', `key-${sagaMode}`);
    const again = await api.createOrder(customerId, '1.00', `key-${sagaMode}`);
    expect(again).toBe(first);
    await api.awaitFinal(first);
    expect(((await api.call('GET', '/orders')).body.orders as unknown[]).length).toBe(before + 1);
    expect((await api.call('GET', `/customers/${customerId}`)).body.availableCredit).toEqual({ amount: '9.00' });
  });

  it('answers 409 to a cancel while the saga holds the order, then cancels and releases credit', async () => {
    const customerId = await api.createCustomer('Cancel', '50.00');
    await demo.customers.stop(); // the order stays PENDING while the customer service is away
    try {
      const orderId = await api.createOrder(customerId, '20.00');
      expect((await api.order(orderId)).orderState).toBe('PENDING');
      const locked = await api.call('POST', `/orders/${orderId}/cancel`);
      expect(locked.status).toBe(409);
      expect(locked.body.error.code).toBe('ORDER_LOCKED');
      await demo.customers.start();
      expect((await api.awaitFinal(orderId)).orderState).toBe('APPROVED');
      const cancelled = await api.call('POST', `/orders/${orderId}/cancel`);
      expect(cancelled).toEqual({ status: 200, body: { orderId, orderState: 'CANCELLED' } });
      await waitUntil(async () => (await api.call('GET', `/customers/${customerId}`)).body.availableCredit.amount === '50.00');
      const again = await api.call('POST', `/orders/${orderId}/cancel`);
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('ORDER_NOT_CANCELLABLE');
    } finally {
      await demo.customers.start().catch(() => {});
    }
  });

  it('never reserves more than the credit limit under 200 concurrent orders', async () => {
    const customerId = await api.createCustomer('Busy', '100.00');
    const ids = await Promise.all(Array.from({ length: 200 }, () => api.createOrder(customerId, '1.00')));
    const finals = await Promise.all(ids.map((id) => api.awaitFinal(id)));
    expect(finals.filter((f) => f.orderState === 'APPROVED')).toHaveLength(100);
    expect(finals.filter((f) => f.rejectionReason === 'INSUFFICIENT_CREDIT')).toHaveLength(100);
    expect((await api.call('GET', `/customers/${customerId}`)).body.availableCredit).toEqual({ amount: '0.00' });
  });

  it('refuses bad input with 400 and a JSON error naming the problem, and unknown ids with 404', async () => {
    const bad = await api.call('POST', '/orders', { customerId: 'x', orderTotal: { amount: '1.234' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    expect(bad.body.error.message).toContain('customerId');
    expect(bad.body.error.message).toContain('at most 2 decimals');
    expect((await api.call('POST', '/customers', '{"name": "x",')).body.error.code).toBe('INVALID_JSON');
    expect((await api.call('POST', '/customers', { name: '', creditLimit: 5 })).status).toBe(400);
    expect((await api.call('GET', '/orders/abc')).body.error.code).toBe('INVALID_ID');
    expect((await api.call('GET', '/orders/424242')).status).toBe(404);
    expect((await api.call('GET', '/customers/424242')).status).toBe(404);
    expect((await api.call('GET', '/customers/424242/orderhistory')).status).toBe(404);
    expect((await api.call('DELETE', '/orders')).status).toBe(405);
    expect((await api.call('POST', '/orders', { customerId: 1, orderTotal: 1 }, { 'Idempotency-Key': 'a b' })).status).toBe(400);
  });

  it('accepts money as a plain number too', async () => {
    const r = await api.call('POST', '/customers', { name: 'Plain', creditLimit: 12.5 });
    expect((await api.call('GET', `/customers/${r.body.customerId}`)).body.creditLimit).toEqual({ amount: '12.50' });
  });

  it('serves the OpenAPI document, Swagger UI and the console', async () => {
    const doc = await api.call('GET', '/openapi.json');
    expect(doc.body.openapi).toBe('3.0.3');
    expect(Object.keys(doc.body.paths as object)).toContain('/orders/{id}/cancel');
    const ui = await fetch(`${demo.url}/swagger-ui/index.html`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('SwaggerUIBundle');
    expect((await fetch(`${demo.url}/swagger-ui/swagger-ui-bundle.js`)).status).toBe(200);
    expect(await (await fetch(`${demo.url}/console`)).text()).toContain('Concord operator console');
  });

  it.runIf(sagaMode === 'orchestration')('shows a saga with its step history', async () => {
    const customerId = await api.createCustomer('Saga', '10.00');
    const orderId = await api.createOrder(customerId, '1.00');
    await api.awaitFinal(orderId);
    const saga = (await api.call('GET', `/sagas/create-order-${orderId}`)).body;
    expect(saga.status).toBe('COMPLETED');
    expect(saga.history.map((h: { event: string }) => h.event)).toEqual([
      'STARTED', 'STEP_DONE', 'COMMAND_SENT', 'REPLY', 'STEP_DONE', 'STEP_DONE', 'COMPLETED',
    ]);
    expect((await api.call('GET', '/sagas/nope')).status).toBe(404);
  });

  it('refuses every /admin route without the token or with a wrong one (401)', async () => {
    const anonymous = new DemoClient(demo.url);
    const routes = [
      ['GET', '/admin/sagas'],
      ['POST', '/admin/sagas/create-order-1/retry'],
      ['POST', '/admin/sagas/create-order-1/resolve'],
      ['POST', '/admin/sagas/create-order-1/abort'],
      ['GET', '/admin/outbox'],
      ['GET', '/admin/dead-letters'],
      ['POST', '/admin/dead-letters/order-service/1/replay'],
      ['POST', '/admin/views/order-history/rebuild'],
    ] as const;
    for (const [method, path] of routes) {
      for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong' }, { authorization: `Basic ${demo.adminToken.secret}` }]) {
        const r = await anonymous.call(method, path, method === 'POST' ? { note: 'x', step: 's', as: 'done' } : undefined, headers);
        expect([method, path, r.status, r.body.error?.code]).toEqual([method, path, 401, 'UNAUTHORIZED']);
      }
    }
    expect((await api.call('GET', '/admin/outbox')).status).toBe(200);
  });

  it('refuses a non-JSON POST body with 415 before reading it', async () => {
    const res = await fetch(`${demo.url}/customers`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"name":"x","creditLimit":1}' });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('rebuilds the order history view by replay, to the same content', async () => {
    const customerId = await api.createCustomer('Rebuild', '10.00');
    await api.awaitFinal(await api.createOrder(customerId, '2.00'));
    const before = await waitUntil(async () => {
      const r = await api.call('GET', `/customers/${customerId}/orderhistory`);
      return r.status === 200 && Object.values(r.body.orders as object).some((o: { state: string }) => o.state === 'APPROVED') ? r.body : undefined;
    });
    expect((await api.call('POST', '/admin/views/order-history/rebuild')).status).toBe(200);
    const after = await waitUntil(async () => {
      const r = await api.call('GET', `/customers/${customerId}/orderhistory`);
      return r.status === 200 && JSON.stringify(r.body.orders) === JSON.stringify(before.orders) ? r.body : undefined;
    });
    expect(after.orders).toEqual(before.orders);
  });
});
