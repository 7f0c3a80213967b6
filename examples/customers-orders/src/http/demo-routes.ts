import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { OrderSnapshot } from '../contracts.js';
import type { CustomerService } from '../customer-service/customer-service.js';
import { Money, formatMoney } from '../money.js';
import type { OrderHistoryView } from '../order-history/order-history-view.js';
import type { OrderService } from '../order-service/order-service.js';
import { HttpError, idempotencyKey, intParam, type Router } from '@concord/http';

export interface DemoServices {
  readonly customers: CustomerService;
  readonly orders: OrderService;
  readonly history: OrderHistoryView;
}

export const CreateCustomerRequest = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(200),
  creditLimit: Money,
});
export const CreateOrderRequest = z.object({
  customerId: z.number().int().positive(),
  orderTotal: Money,
});

const orderView = (o: OrderSnapshot) => ({ orderId: o.orderId, orderState: o.state, rejectionReason: o.rejectionReason });

/** The Eventuate customers-and-orders API, wire-compatible. */
export function demoRoutes(router: Router, s: DemoServices): void {
  customerRoutes(router, s.customers);
  historyRoutes(router, s.history);
  orderRoutes(router, s.orders);
}

export function customerRoutes(router: Router, customers: CustomerService): void {
  const s = { customers };
  router
    .on('POST', '/customers', async (ctx) => {
      const body = CreateCustomerRequest.parse(await ctx.body());
      const customer = await s.customers.createCustomer(body.name, body.creditLimit);
      return { customerId: customer.customerId };
    })
    .on('GET', '/customers', async () => ({
      customers: (await s.customers.listCustomers()).map((c) => ({
        customerId: c.customerId,
        name: c.name,
        creditLimit: formatMoney(c.creditLimit),
      })),
    }))
    .on('GET', '/customers/:id', async (ctx) => {
      const id = intParam(ctx.params, 'id');
      const c = await s.customers.getCustomer(id);
      if (!c) throw new HttpError(404, 'NOT_FOUND', `customer ${id} not found`);
      return { customerId: c.customerId, name: c.name, creditLimit: formatMoney(c.creditLimit), availableCredit: formatMoney(c.availableCredit) };
    });
}

export function historyRoutes(router: Router, history: OrderHistoryView): void {
  router.on('GET', '/customers/:id/orderhistory', async (ctx) => {
    const id = intParam(ctx.params, 'id');
    const view = await history.get(id);
    if (!view) throw new HttpError(404, 'NOT_FOUND', `customer ${id} not found in the order history view`);
    return view;
  });
}

export function orderRoutes(router: Router, orders: OrderService): void {
  const s = { orders };
  router
    .on('POST', '/orders', async (ctx) => {
      const key = idempotencyKey(ctx.req.headers['idempotency-key']);
      const body = CreateOrderRequest.parse(await ctx.body());
      return { orderId: await s.orders.createOrder(body.customerId, body.orderTotal, key) };
    })
    .on('GET', '/orders', async () => ({ orders: (await s.orders.listOrders()).map(orderView) }))
    .on('GET', '/orders/:id', async (ctx) => {
      const id = intParam(ctx.params, 'id');
      const o = await s.orders.getOrder(id);
      if (!o) throw new HttpError(404, 'NOT_FOUND', `order ${id} not found`);
      return { ...orderView(o), version: o.version };
    })
    .on('POST', '/orders/:id/cancel', async (ctx) => {
      const o = await s.orders.cancelOrder(intParam(ctx.params, 'id'));
      return { orderId: o.orderId, orderState: o.state };
    })
    .on('GET', '/orders/:id/events', async (ctx) => {
      const id = intParam(ctx.params, 'id');
      await streamOrderEvents(ctx.res, s.orders, id);
      return undefined;
    })
    .on('GET', '/sagas/:id', async (ctx) => {
      const orchestrator = s.orders.orchestrator;
      if (!orchestrator) throw new HttpError(404, 'NOT_FOUND', 'sagas are orchestrated only in orchestration mode');
      const saga = await orchestrator.get(ctx.params.id!);
      if (!saga) throw new HttpError(404, 'NOT_FOUND', `saga ${ctx.params.id} not found`);
      return saga;
    });
}

/**
 * Server-sent events: the order's current state at once, then every change, until a final
 * state. No polling: changes come from the order service's commit hook.
 */
async function streamOrderEvents(res: ServerResponse, orders: OrderService, orderId: number): Promise<void> {
  let last = 0;
  const queue: OrderSnapshot[] = [];
  let wake: (() => void) | undefined;
  const off = orders.onOrderChange((o) => {
    if (o.orderId !== orderId) return;
    queue.push(o);
    wake?.();
  });
  try {
    const current = await orders.getOrder(orderId);
    if (!current) throw new HttpError(404, 'NOT_FOUND', `order ${orderId} not found`);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (o: OrderSnapshot) => {
      if (o.version <= last) return false;
      last = o.version;
      res.write(`id: ${o.version}\nevent: order\ndata: ${JSON.stringify({ ...orderView(o), version: o.version })}\n\n`);
      return orders.isFinal(o.state);
    };
    let done = send(current);
    let closed = false;
    res.on('close', () => {
      closed = true;
      wake?.();
    });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    const unwatch = orders.watchOrder(orderId);
    while (!done && !closed) {
      if (queue.length === 0) await new Promise<void>((r) => (wake = r));
      wake = undefined;
      for (const o of queue.splice(0).sort((a, b) => a.version - b.version)) done = send(o) || done;
    }
    clearInterval(heartbeat);
    unwatch();
    res.end();
  } finally {
    off();
  }
}
