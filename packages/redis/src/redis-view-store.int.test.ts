import { InvalidArgumentError } from '@concord/core';
import { serviceAvailable, services, uniqueName } from '@concord/core/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeysWithPrefix, openRedisViewStore, type ViewUpdate } from './index.js';

const available = await serviceAvailable(services.redis);
const url = 'redis://127.0.0.1:6379';
const keyPrefix = `${uniqueName('concord-test-views')}:`;

interface Money {
  amount: string;
}
interface OrderSummary {
  orderId: number;
  state: 'PENDING' | 'APPROVED' | 'REJECTED' | 'CANCELLED';
  orderTotal: Money;
}
/** The customers-orders example's CQRS view. */
interface CustomerOrderHistory {
  id: number;
  name: string;
  creditLimit: Money;
  orders: Record<string, OrderSummary>;
  version: number;
}

type Event =
  | {
      eventId: string;
      type: 'CustomerCreated';
      customerId: number;
      version: number;
      name: string;
      creditLimit: Money;
    }
  | {
      eventId: string;
      type: 'OrderCreated';
      customerId: number;
      orderId: number;
      version: number;
      orderTotal: Money;
    }
  | {
      eventId: string;
      type: 'OrderApproved' | 'OrderRejected';
      customerId: number;
      orderId: number;
      version: number;
    };

/**
 * The projection: customer fields are versioned by the customer's version, each order's
 * fields by that order's version, and `version` counts the events applied (commutative).
 */
function project(e: Event): ViewUpdate<CustomerOrderHistory> {
  const base = { eventId: e.eventId, version: e.version, increment: { version: 1 } };
  switch (e.type) {
    case 'CustomerCreated':
      return { ...base, set: { id: e.customerId, name: e.name, creditLimit: e.creditLimit, orders: {} } };
    case 'OrderCreated':
      return {
        ...base,
        set: {
          id: e.customerId,
          orders: { [e.orderId]: { orderId: e.orderId, state: 'PENDING', orderTotal: e.orderTotal } },
        },
      };
    case 'OrderApproved':
      return {
        ...base,
        set: { id: e.customerId, orders: { [e.orderId]: { orderId: e.orderId, state: 'APPROVED' } } },
      };
    case 'OrderRejected':
      return {
        ...base,
        set: { id: e.customerId, orders: { [e.orderId]: { orderId: e.orderId, state: 'REJECTED' } } },
      };
  }
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

describe.skipIf(!available)('RedisViewStore', () => {
  const admin = available ? new Redis(url) : undefined;
  const views = openRedisViewStore<CustomerOrderHistory>({ url, keyPrefix, name: 'customer-order-history' });
  afterAll(async () => {
    await views.close();
    await deleteKeysWithPrefix(admin!, keyPrefix);
    admin!.disconnect();
  });

  const events = (customerId: number): Event[] => [
    {
      eventId: `c${customerId}-1`,
      type: 'CustomerCreated',
      customerId,
      version: 1,
      name: 'Ann',
      creditLimit: { amount: '100.00' },
    },
    {
      eventId: `o17-1`,
      type: 'OrderCreated',
      customerId,
      orderId: 17,
      version: 1,
      orderTotal: { amount: '12.34' },
    },
    { eventId: `o17-2`, type: 'OrderApproved', customerId, orderId: 17, version: 2 },
    {
      eventId: `o18-1`,
      type: 'OrderCreated',
      customerId,
      orderId: 18,
      version: 1,
      orderTotal: { amount: '500.00' },
    },
    { eventId: `o18-2`, type: 'OrderRejected', customerId, orderId: 18, version: 2 },
  ];
  const expected = (customerId: number): CustomerOrderHistory => ({
    id: customerId,
    name: 'Ann',
    creditLimit: { amount: '100.00' },
    orders: {
      '17': { orderId: 17, state: 'APPROVED', orderTotal: { amount: '12.34' } },
      '18': { orderId: 18, state: 'REJECTED', orderTotal: { amount: '500.00' } },
    },
    version: 5,
  });

  it('reads nothing for an unknown id', async () => {
    expect(await views.get(999_999)).toBeUndefined();
  });

  it('converges on the same view whatever order the events arrive in, with redeliveries', async () => {
    const orders = permutations(events(0));
    expect(orders).toHaveLength(120);
    for (const [n, order] of orders.entries()) {
      const customerId = 1_000 + n;
      // every order of arrival, with one event delivered a second time somewhere later
      const redelivered = order[n % order.length]!;
      const arrivals = [...order.slice(0, 3), redelivered, ...order.slice(3)].map((e) => ({
        ...e,
        customerId,
      }));
      for (const e of arrivals) await views.apply(customerId, project(e));
      expect(await views.get(customerId)).toEqual(expected(customerId));
    }
  });

  it('reads a view with one HGETALL of one hash', async () => {
    const id = 2_000;
    for (const e of events(id)) await views.apply(id, project(e));
    const key = views.keysOf(id).data;
    expect(await admin!.type(key)).toBe('hash');
    expect(await admin!.hget(key, 'orders.17.state')).toBe('"APPROVED"');
    expect(await views.getMany([id, 424242])).toEqual([expected(id), undefined]);
  });

  it('makes a redelivered event a no-op, increments included', async () => {
    const id = 3_000;
    const [created, orderCreated] = events(id);
    expect(await views.apply(id, project(created!))).toEqual({ duplicate: false, applied: 5, stale: 0 });
    expect(await views.apply(id, project(orderCreated!))).toMatchObject({ duplicate: false });
    expect(await views.apply(id, project(created!))).toEqual({ duplicate: true, applied: 0, stale: 0 });
    expect((await views.get(id))!.version).toBe(2);
  });

  it('skips a field that a newer version already wrote (OrderApproved before OrderCreated)', async () => {
    const id = 4_000;
    const [, orderCreated, orderApproved] = events(id);
    await views.apply(id, project(orderApproved!));
    const result = await views.apply(id, project(orderCreated!));
    // state, orderId and id were written by version 2; only orderTotal and the count apply
    expect(result).toEqual({ duplicate: false, applied: 2, stale: 3 });
    expect((await views.get(id))!.orders['17']).toEqual({
      orderId: 17,
      state: 'APPROVED',
      orderTotal: { amount: '12.34' },
    });
  });

  it('keeps JSON types, arrays and empty objects, and removes fields by version', async () => {
    const store = openRedisViewStore<Record<string, unknown>>({ url, keyPrefix, name: 'shapes' });
    try {
      const value = {
        n: 1.5,
        s: 'x.y',
        nil: null,
        yes: true,
        list: [1, { a: 2 }],
        empty: {},
        deep: { a: { b: { c: 'd' } } },
      };
      await store.apply('a', { eventId: 'e1', version: 1, set: value });
      expect(await store.get('a')).toEqual(value);
      expect(await store.apply('a', { eventId: 'e2', version: 1, unset: ['n'] })).toMatchObject({
        applied: 0,
        stale: 1,
      });
      expect(await store.apply('a', { eventId: 'e3', version: 2, unset: ['n', 'deep.a.b.c'] })).toMatchObject(
        { applied: 2 },
      );
      expect(await store.get('a')).toEqual({
        s: 'x.y',
        nil: null,
        yes: true,
        list: [1, { a: 2 }],
        empty: {},
      });
      expect(
        await store.apply('a', {
          eventId: 'e4',
          version: 3,
          increment: { 'stats.total': 2.5, 'stats.count': 1 },
        }),
      ).toMatchObject({ applied: 2 });
      expect((await store.get('a'))!.stats).toEqual({ total: 2.5, count: 1 });
    } finally {
      await store.close();
    }
  });

  it('rejects field names it could not read back, and updates without an event id', async () => {
    await expect(
      views.apply(1, { eventId: 'x', version: 1, set: { ['a.b' as 'name']: 'x' } }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(views.apply(1, { eventId: '', version: 1, set: { name: 'x' } })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(views.apply(1, { eventId: 'y', version: -1, set: { name: 'x' } })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(
      views.apply(1, { eventId: 'z', version: 1, increment: { 'a..b': 1 } }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await views.get(1)).toBeUndefined();
  });

  it('deletes one view, and drops every view of its name only (for a rebuild)', async () => {
    const name = uniqueName('dropme');
    const a = openRedisViewStore<{ x: number }>({ url, keyPrefix, name });
    const b = openRedisViewStore<{ x: number }>({ url, keyPrefix, name: `${name}:v2` });
    try {
      for (let i = 0; i < 50; i++) await a.apply(i, { eventId: `e${i}`, version: 1, set: { x: i } });
      await b.apply(1, { eventId: 'e', version: 1, set: { x: 1 } });
      expect(await a.delete(0)).toBe(true);
      expect(await a.get(0)).toBeUndefined();
      // a deleted view forgets its processed events: a replay rebuilds it
      await a.apply(0, { eventId: 'e0', version: 1, set: { x: 0 } });
      expect(await a.get(0)).toEqual({ x: 0 });
      expect(await a.drop()).toBe(150);
      expect(await a.get(7)).toBeUndefined();
      expect(await b.get(1)).toEqual({ x: 1 });
    } finally {
      await a.close();
      await b.close();
    }
  });
});
