import { z } from 'zod';
import type { OrderSnapshot } from '../contracts.js';
import type { CustomerService } from '../customer-service/customer-service.js';
import { Money, formatMoney } from '../money.js';
import type { OrderHistoryView } from '../order-history/order-history-view.js';
import type { OrderService } from '../order-service/order-service.js';
import { hasControlCharacters, HttpError, idempotencyKey, intParam, type EventStream, type EventStreams, type Router } from '@concord/http';

export interface DemoServices {
  readonly customers: CustomerService;
  readonly orders: OrderService;
  readonly history: OrderHistoryView;
  /** Admission, limits and cleanup of /orders/:id/events streams. */
  readonly streams: EventStreams;
}

export const CreateCustomerRequest = z.object({
  // No control characters: PostgreSQL refuses NUL in text, and no name needs them.
  name: z.string().trim().min(1, 'must not be empty').max(200).refine((v) => !hasControlCharacters(v), 'must not contain control characters'),
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
  orderRoutes(router, s.orders, s.streams);
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

export function orderRoutes(router: Router, orders: OrderService, streams: EventStreams): void {
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
      // Admitted (or 429/503) before any await: a client gone during the first read is noticed.
      await streamOrderEvents(streams.open(ctx.req, ctx.res), s.orders, id);
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
 * state. No polling: changes come from the order service's commit hook. Whatever ends the
 * stream (final state, client gone at any moment, timeout, shutdown), the listener and the
 * cross-process watch are released in `finally`.
 */
async function streamOrderEvents(stream: EventStream, orders: OrderService, orderId: number): Promise<void> {
  let last = 0;
  const queue: OrderSnapshot[] = [];
  let wake: (() => void) | undefined;
  const off = orders.onOrderChange((o) => {
    if (o.orderId !== orderId) return;
    queue.push(o);
    wake?.();
  });
  stream.onClose(() => wake?.());
  let unwatch: (() => void) | undefined;
  try {
    const current = await orders.getOrder(orderId);
    if (!current) throw new HttpError(404, 'NOT_FOUND', `order ${orderId} not found`);
    const send = (o: OrderSnapshot) => {
      if (o.version <= last) return false;
      last = o.version;
      stream.send('order', { ...orderView(o), version: o.version }, o.version);
      return orders.isFinal(o.state);
    };
    let done = send(current);
    if (!done && !stream.closed) unwatch = orders.watchOrder(orderId);
    while (!done && !stream.closed) {
      if (queue.length === 0) await new Promise<void>((r) => (wake = r));
      wake = undefined;
      for (const o of queue.splice(0).sort((a, b) => a.version - b.version)) done = send(o) || done;
    }
  } finally {
    off();
    unwatch?.();
    stream.close();
  }
}
