import type { ServerResponse } from 'node:http';
import { HttpError, idempotencyKey, intParam, type Router } from '@concord/http';
import { z } from 'zod';
import type { DeliveryService } from '../delivery-service/delivery-service.js';
import type { KitchenService } from '../kitchen-service/kitchen-service.js';
import type { FoodOrder } from '../order-service/order-repository.js';
import type { OrderService } from '../order-service/order-service.js';
import type { ReleaseWatch } from '../release-watch.js';

export interface FoodServices {
  readonly kitchens: KitchenService;
  readonly delivery: DeliveryService;
  readonly orders: OrderService;
  readonly releases: ReleaseWatch;
}

const name = z.string().trim().min(1, 'must not be empty').max(200);
const packets = z.number().int('must be a whole number').nonnegative().max(1_000_000);
export const CreateKitchenRequest = z.object({ name, packets });
export const AddPacketsRequest = z.object({ packets: packets.positive() });
export const CreateAgentRequest = z.object({ name });
export const PlaceOrderRequest = z.object({ kitchenId: z.number().int().positive() });

export const orderView = (o: FoodOrder) => ({
  orderId: o.orderId,
  kitchenId: o.kitchenId,
  state: o.state,
  rejectionReason: o.rejectionReason,
  agentId: o.agentId,
  version: o.version,
});

/** The food-delivery API of ARCHITECTURE.md section 4. */
export function foodRoutes(router: Router, s: FoodServices): void {
  router
    .on('POST', '/kitchens', async (ctx) => {
      const body = CreateKitchenRequest.parse(await ctx.body());
      return { kitchenId: await s.kitchens.createKitchen(body.name, body.packets) };
    })
    .on('GET', '/kitchens/:id', async (ctx) => {
      const id = intParam(ctx.params, 'id');
      const kitchen = await s.kitchens.getKitchen(id);
      if (!kitchen) throw new HttpError(404, 'NOT_FOUND', `kitchen ${id} not found`);
      return kitchen;
    })
    .on('POST', '/kitchens/:id/packets', async (ctx) => {
      const id = intParam(ctx.params, 'id');
      const body = AddPacketsRequest.parse(await ctx.body());
      return s.kitchens.addPackets(id, body.packets);
    })
    .on('POST', '/agents', async (ctx) => {
      const body = CreateAgentRequest.parse(await ctx.body());
      return { agentId: await s.delivery.createAgent(body.name) };
    })
    .on('GET', '/agents/:id', async (ctx) => {
      const id = intParam(ctx.params, 'id');
      const agent = await s.delivery.getAgent(id);
      if (!agent) throw new HttpError(404, 'NOT_FOUND', `agent ${id} not found`);
      return agent;
    })
    .on('POST', '/orders', async (ctx) => {
      const key = idempotencyKey(ctx.req.headers['idempotency-key']);
      const body = PlaceOrderRequest.parse(await ctx.body());
      try {
        return { orderId: await s.orders.placeOrder(body.kitchenId, key) };
      } catch (error) {
        if ((error as { httpCode?: string }).httpCode === 'IDEMPOTENCY_KEY_REUSED') {
          throw new HttpError(422, 'IDEMPOTENCY_KEY_REUSED', (error as Error).message);
        }
        throw error;
      }
    })
    .on('GET', '/orders/:id', async (ctx) => orderView(await found(s.orders, intParam(ctx.params, 'id'))))
    .on('GET', '/orders/:id/events', async (ctx) => {
      await streamOrderEvents(ctx.res, s.orders, intParam(ctx.params, 'id'));
      return undefined;
    })
    .on('POST', '/orders/:id/cancel', async (ctx) => {
      const order = await s.orders.cancelOrder(intParam(ctx.params, 'id'));
      await s.releases.released(order.orderId, { packet: true, agent: true });
      return orderView(order);
    })
    .on('POST', '/orders/:id/delivered', async (ctx) => {
      const order = await s.orders.markDelivered(intParam(ctx.params, 'id'));
      await s.releases.released(order.orderId, { packet: false, agent: true });
      return orderView(order);
    })
    .on('GET', '/sagas/:id', async (ctx) => {
      const saga = await s.orders.orchestrator.get(ctx.params.id!);
      if (!saga) throw new HttpError(404, 'NOT_FOUND', `saga ${ctx.params.id} not found`);
      return saga;
    });
}

async function found(orders: OrderService, orderId: number): Promise<FoodOrder> {
  const order = await orders.getOrder(orderId);
  if (!order) throw new HttpError(404, 'NOT_FOUND', `order ${orderId} not found`);
  return order;
}

/**
 * Server-sent events: the order's state at once, then every change, until it is settled
 * (PLACED, REJECTED, CANCELLED or DELIVERED). Changes come from the order service's commit hook.
 */
async function streamOrderEvents(res: ServerResponse, orders: OrderService, orderId: number): Promise<void> {
  const queue: FoodOrder[] = [];
  let wake: (() => void) | undefined;
  const off = orders.onOrderChange((o) => {
    if (o.orderId !== orderId) return;
    queue.push(o);
    wake?.();
  });
  try {
    const current = await found(orders, orderId);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    let last = 0;
    const send = (o: FoodOrder) => {
      if (o.version <= last) return false;
      last = o.version;
      res.write(`id: ${o.version}\nevent: order\ndata: ${JSON.stringify(orderView(o))}\n\n`);
      return orders.isSettled(o.state);
    };
    let done = send(current);
    let closed = false;
    res.on('close', () => {
      closed = true;
      wake?.();
    });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    while (!done && !closed) {
      if (queue.length === 0) await new Promise<void>((r) => (wake = r));
      wake = undefined;
      for (const o of queue.splice(0).sort((a, b) => a.version - b.version)) done = send(o) || done;
    }
    clearInterval(heartbeat);
    res.end();
  } finally {
    off();
  }
}
