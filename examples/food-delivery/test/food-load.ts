import { expect } from 'vitest';
import { eventually } from '@concord/core/testing';
import type { RunningFoodDelivery } from '../src/food-delivery.js';

export interface FoodLoad {
  readonly orders: number;
  readonly kitchens: number;
  readonly packetsPerKitchen: number;
  readonly agents: number;
  /** The app's reservation TTL: after it, nothing may be left reserved. */
  readonly ttlMs: number;
  readonly settleTimeoutMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Places `orders` orders at once against a few kitchens and agents, while a courier marks
 * placed orders delivered (freeing their agents) and a sampler checks the invariants all along:
 * each kitchen's available + reserved + assigned equals its stock, and no agent is ever
 * assigned to two orders. At the end every order is settled, assignments match the orders
 * placed, and after the TTL nothing is left reserved.
 */
export async function runFoodLoad(app: RunningFoodDelivery, load: FoodLoad): Promise<Record<string, number>> {
  const kitchenIds: number[] = [];
  for (let k = 0; k < load.kitchens; k++) kitchenIds.push(await app.kitchens.createKitchen(`kitchen ${k}`, load.packetsPerKitchen));
  for (let a = 0; a < load.agents; a++) await app.delivery.createAgent(`agent ${a}`);

  const delivering: Array<Promise<unknown>> = [];
  const off = app.orders.onOrderChange((o) => {
    // Every other placed order is delivered (its agent freed); the rest stay PLACED.
    if (o.state === 'PLACED' && o.orderId % 2 === 0) delivering.push(sleep(5).then(() => app.orders.markDelivered(o.orderId)).catch((e: unknown) => e));
  });
  const violations: string[] = [];
  let sampling = true;
  const deliveryStore = app.stores['delivery-service']!;
  const sampler = (async () => {
    while (sampling) {
      for (const kitchenId of kitchenIds) {
        const p = (await app.kitchens.getKitchen(kitchenId))!.packets;
        if (p.available + p.reserved + p.assigned !== load.packetsPerKitchen || p.available < 0 || p.reserved < 0) {
          violations.push(`kitchen ${kitchenId}: ${JSON.stringify(p)}`);
        }
      }
      const doubly = await deliveryStore.driver.run((exec) =>
        exec.query<{ item_id: string }>(
          `SELECT item_id FROM ${deliveryStore.driver.dialect.table('reservations')} WHERE pool = 'agents' AND state = 'CONFIRMED' GROUP BY item_id HAVING COUNT(*) > 1`,
        ),
      );
      for (const row of doubly) violations.push(`agent ${row.item_id} assigned twice`);
      await sleep(20);
    }
  })();

  const orderIds = await Promise.all(
    Array.from({ length: load.orders }, (_, i) => app.orders.placeOrder(kitchenIds[i % kitchenIds.length]!)),
  );
  expect(new Set(orderIds).size).toBe(load.orders);
  await eventually(async () => ((await app.orders.countByState()).PENDING ?? 0) === 0, load.settleTimeoutMs, 100).catch(async (error: unknown) => {
    sampling = false;
    throw new Error(`orders not settled: ${JSON.stringify(await app.orders.countByState())}, sagas ${JSON.stringify(await app.orders.orchestrator.countByStatus())}`, { cause: error });
  });
  await Promise.all(delivering);
  sampling = false;
  await sampler;
  off();
  expect(violations).toEqual([]);

  const orders = await Promise.all(orderIds.map(async (id) => (await app.orders.getOrder(id))!));
  const byState = (s: string) => orders.filter((o) => o.state === s);
  expect(byState('PENDING').concat(byState('CANCELLED'))).toEqual([]);
  const assigned = orders.filter((o) => o.state === 'PLACED' || o.state === 'DELIVERED');
  expect(assigned.length + byState('REJECTED').length).toBe(load.orders);
  expect(assigned.length).toBeGreaterThan(0);
  expect(assigned.length).toBeLessThanOrEqual(load.kitchens * load.packetsPerKitchen);
  // An order is PLACED only with an agent, and no two orders still out hold the same agent.
  expect(assigned.every((o) => o.agentId !== null)).toBe(true);
  const out = byState('PLACED').map((o) => o.agentId);
  expect(new Set(out).size).toBe(out.length);
  // Each kitchen assigned exactly one packet per order placed with it.
  for (const kitchenId of kitchenIds) {
    const p = (await app.kitchens.getKitchen(kitchenId))!.packets;
    expect(p.assigned).toBe(assigned.filter((o) => o.kitchenId === kitchenId).length);
  }

  // After the TTL no reservation is left that was neither assigned nor given back.
  await sleep(load.ttlMs);
  for (const name of ['kitchen-service', 'delivery-service']) {
    const store = app.stores[name]!;
    await eventually(async () => {
      const rows = await store.driver.run((exec) =>
        exec.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${store.driver.dialect.table('reservations')} WHERE state = 'RESERVED'`),
      );
      return Number(rows[0]!.n) === 0;
    }, 20_000, 100);
  }
  for (const kitchenId of kitchenIds) expect((await app.kitchens.getKitchen(kitchenId))!.packets.reserved).toBe(0);
  return app.orders.countByState();
}
