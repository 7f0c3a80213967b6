import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@concord/core';
import { eventually } from '@concord/core/testing';
import { AdminToken } from '@concord/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFoodDelivery, type RunningFoodDelivery } from '../src/food-delivery.js';
import { FoodClient } from './food-client.js';

describe('food-delivery API (ARCHITECTURE.md section 4)', () => {
  let app: RunningFoodDelivery;
  let api: FoodClient;
  let dir: string;
  const ttl = 1_500;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-food-'));
    app = await startFoodDelivery(
      { port: 0, host: '127.0.0.1', adminToken: AdminToken.parse('test-secret'), dataDir: dir, databaseUrl: undefined, brokerUrl: undefined, reservationTtlMs: ttl },
      silentLogger,
    );
    api = new FoodClient(app.url, 'test-secret');
  });
  afterAll(async () => {
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('places an order only with a packet and an agent, then delivers it; counts always add up to the stock', async () => {
    const { kitchenId } = await api.ok('POST', '/kitchens', { name: 'Dosa Corner', packets: 2 });
    const { agentId } = await api.ok('POST', '/agents', { name: 'Asha' });
    expect(await api.ok('GET', `/agents/${agentId}`)).toEqual({ agentId, name: 'Asha', state: 'AVAILABLE', orderId: null });
    const { orderId } = await api.ok('POST', '/orders', { kitchenId });
    const settled = await api.settle(orderId);
    expect(settled).toMatchObject({ state: 'PLACED', rejectionReason: null, agentId });
    expect(await api.ok('GET', `/orders/${orderId}`)).toEqual({ orderId, kitchenId, state: 'PLACED', rejectionReason: null, agentId, version: 2 });
    expect(await api.ok('GET', `/agents/${agentId}`)).toEqual({ agentId, name: 'Asha', state: 'ASSIGNED', orderId });
    expect(await api.ok('GET', `/kitchens/${kitchenId}`)).toEqual({ kitchenId, name: 'Dosa Corner', packets: { available: 1, reserved: 0, assigned: 1 } });

    // The only agent is busy: the next order is refused, and its packet goes back.
    const second = (await api.ok('POST', '/orders', { kitchenId })).orderId;
    expect(await api.settle(second)).toMatchObject({ state: 'REJECTED', rejectionReason: 'NO_AGENT' });
    expect((await api.ok('GET', `/kitchens/${kitchenId}`)).packets).toEqual({ available: 1, reserved: 0, assigned: 1 });

    const delivered = await api.call('POST', `/orders/${orderId}/delivered`);
    expect(delivered).toMatchObject({ status: 200, body: { orderId, state: 'DELIVERED' } });
    expect(await api.ok('GET', `/agents/${agentId}`)).toMatchObject({ state: 'AVAILABLE', orderId: null });
    expect((await api.ok('GET', `/kitchens/${kitchenId}`)).packets).toEqual({ available: 1, reserved: 0, assigned: 1 });
    expect((await api.call('POST', `/orders/${orderId}/cancel`)).status).toBe(409);
    expect((await api.call('POST', `/orders/${orderId}/delivered`)).status).toBe(409);
    expect((await api.call('POST', `/orders/${second}/cancel`)).status).toBe(409);
    expect((await api.call('POST', `/orders/${second}/delivered`)).status).toBe(409);
  });

  it('rejects for want of a packet, and for an unknown kitchen', async () => {
    const { kitchenId } = await api.ok('POST', '/kitchens', { name: 'Empty', packets: 0 });
    await api.ok('POST', '/agents', { name: 'Bala' });
    const noPacket = (await api.ok('POST', '/orders', { kitchenId })).orderId;
    expect(await api.settle(noPacket)).toMatchObject({ state: 'REJECTED', rejectionReason: 'NO_PACKET' });
    const unknown = await api.call('POST', '/orders', { kitchenId: 999_999 });
    expect(unknown.status).toBe(200);
    expect(await api.settle(unknown.body.orderId)).toMatchObject({ state: 'REJECTED', rejectionReason: 'UNKNOWN_KITCHEN' });
    expect(await api.ok('POST', `/kitchens/${kitchenId}/packets`, { packets: 3 })).toEqual({
      kitchenId,
      name: 'Empty',
      packets: { available: 3, reserved: 0, assigned: 0 },
    });
  });

  it('cancels a PLACED order and releases its packet and agent', async () => {
    const { kitchenId } = await api.ok('POST', '/kitchens', { name: 'Biryani House', packets: 1 });
    const { orderId } = await api.ok('POST', '/orders', { kitchenId });
    const placed = await api.settle(orderId);
    expect(placed.state).toBe('PLACED');
    expect(await api.call('POST', `/orders/${orderId}/cancel`)).toMatchObject({ status: 200, body: { orderId, state: 'CANCELLED' } });
    expect((await api.ok('GET', `/kitchens/${kitchenId}`)).packets).toEqual({ available: 1, reserved: 0, assigned: 0 });
    expect(await api.ok('GET', `/agents/${placed.agentId}`)).toMatchObject({ state: 'AVAILABLE', orderId: null });
    expect((await api.call('POST', `/orders/${orderId}/cancel`)).status).toBe(409);
  });

  it('cancels an order while its saga is still reserving: everything it took, or was about to take, is given back', async () => {
    const { kitchenId } = await api.ok('POST', '/kitchens', { name: 'Race', packets: 3 });
    const orders = await Promise.all([1, 2, 3].map(() => api.ok('POST', '/orders', { kitchenId })));
    // Cancel at once, whatever each saga has done so far (often nothing yet: hanging protection).
    for (const { orderId } of orders) {
      const r = await api.call('POST', `/orders/${orderId}/cancel`);
      expect(r.status === 200 || r.status === 409, JSON.stringify(r.body)).toBe(true);
    }
    for (const { orderId } of orders) {
      const saga = await eventually(async () => {
        const s = await api.call('GET', `/sagas/place-order-${orderId}`);
        return ['COMPLETED', 'COMPENSATED'].includes(s.body.status) ? s.body : undefined;
      });
      expect(saga.status).toMatch(/COMPLETED|COMPENSATED/);
      expect((await api.ok('GET', `/orders/${orderId}`)).state).toMatch(/CANCELLED|REJECTED/);
    }
    await eventually(async () => (await api.ok('GET', `/kitchens/${kitchenId}`)).packets.available === 3, 10_000, 50);
    expect((await api.ok('GET', `/kitchens/${kitchenId}`)).packets).toEqual({ available: 3, reserved: 0, assigned: 0 });
  });

  it('keeps idempotency keys: same key, same order; other body, 422', async () => {
    const { kitchenId } = await api.ok('POST', '/kitchens', { name: 'Keys', packets: 5 });
    const first = await api.ok('POST', '/orders', { kitchenId }, { 'Idempotency-Key': 'order-key-1' });
    const again = await api.ok('POST', '/orders', { kitchenId }, { 'Idempotency-Key': 'order-key-1' });
    expect(again.orderId).toBe(first.orderId);
    const other = await api.call('POST', '/orders', { kitchenId: kitchenId + 1 }, { 'Idempotency-Key': 'order-key-1' });
    expect(other).toMatchObject({ status: 422, body: { error: { code: 'IDEMPOTENCY_KEY_REUSED' } } });
    await api.settle(first.orderId);
  });

  it('answers bad input with 400 and unknown ids with 404', async () => {
    for (const [method, path, body] of [
      ['POST', '/kitchens', { name: '', packets: 1 }],
      ['POST', '/kitchens', { name: 'x', packets: -1 }],
      ['POST', '/kitchens', { name: 'x', packets: 1.5 }],
      ['POST', '/agents', {}],
      ['POST', '/orders', { kitchenId: 'one' }],
      ['POST', '/orders', '{not json'],
      ['GET', '/orders/abc', undefined],
    ] as const) {
      const r = await api.call(method, path, body);
      expect(r.status, `${method} ${path}`).toBe(400);
      expect(r.body.error.code).toEqual(expect.any(String));
    }
    expect((await api.call('GET', '/orders/424242')).status).toBe(404);
    expect((await api.call('GET', '/kitchens/424242')).status).toBe(404);
    expect((await api.call('GET', '/agents/424242')).status).toBe(404);
    expect((await api.call('POST', '/orders/424242/cancel')).status).toBe(404);
  });

  it('a reservation never assigned expires after the TTL and returns to the pool', async () => {
    const { kitchenId } = await api.ok('POST', '/kitchens', { name: 'Expiry', packets: 1 });
    const store = app.stores['kitchen-service']!;
    // A try whose saga never comes back to assign it (its orchestrator crashed, say).
    await store.transaction((tx) =>
      app.kitchens.runtime.reservations.try(tx, { reservationId: 'stray', pool: `kitchen-${kitchenId}`, quantity: 1, ttlMs: ttl }),
    );
    expect((await api.ok('GET', `/kitchens/${kitchenId}`)).packets).toEqual({ available: 0, reserved: 1, assigned: 0 });
    await eventually(async () => (await api.ok('GET', `/kitchens/${kitchenId}`)).packets.available === 1, 10_000, 50);
    expect((await api.ok('GET', `/kitchens/${kitchenId}`)).packets).toEqual({ available: 1, reserved: 0, assigned: 0 });
  });

  it('lists durable timers on the token-guarded operator API', async () => {
    expect((await new FoodClient(app.url).call('GET', '/admin/timers')).status).toBe(401);
    const r = await api.call('GET', '/admin/timers?service=kitchen-service&status=FIRED');
    expect(r.status).toBe(200);
    expect(r.body.timers.some((t: { id: string }) => t.id === 'reservation:stray')).toBe(true);
    expect((await api.call('GET', '/admin/timers?status=NOPE')).status).toBe(400);
  });
});
