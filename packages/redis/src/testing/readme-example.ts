// #region example
import { MessageConsumer, OutboxRelay, defineEvent } from '@concord/core';
import { openSqliteStore } from '@concord/sqlite';
import { z } from 'zod';
import { openRedisBroker, openRedisViewStore } from '../index.js'; // '@concord/redis' in your code

const OrderCreated = defineEvent('order.OrderCreated', {
  channel: 'order-events',
  schema: z.object({
    orderId: z.number().int(),
    customerId: z.number().int(),
    total: z.string(),
    version: z.number().int(),
  }),
  partitionKey: (p) => String(p.customerId), // one customer's events stay in order
});

interface CustomerOrderHistory {
  id: number;
  orders: Record<string, { orderId: number; state: string; orderTotal: { amount: string } }>;
}

export async function runExample(options: { url: string; keyPrefix: string; dataDir: string }) {
  const { url, keyPrefix, dataDir } = options;

  // Order service: the order row and its event commit in one SQLite transaction;
  // the relay moves committed events to Redis.
  const orders = await openSqliteStore({ filename: `${dataDir}/orders.db` });
  const orderBroker = await openRedisBroker({ url, keyPrefix });
  const relay = new OutboxRelay({ store: orders, broker: orderBroker });
  relay.start();

  // Customer-view service: a consumer group reads the channel and keeps a Redis view.
  const inbox = await openSqliteStore({ filename: `${dataDir}/views.db` });
  const viewBroker = await openRedisBroker({ url, keyPrefix });
  const views = openRedisViewStore<CustomerOrderHistory>({ url, keyPrefix, name: 'customer-order-history' });
  const consumer = new MessageConsumer({
    name: 'order-history-view',
    store: inbox,
    broker: viewBroker,
  }).handle(OrderCreated, async (_tx, event, message) => {
    // The view store is idempotent by itself (message.id) and keeps the newest version per
    // field, so a redelivery or an out-of-order event cannot corrupt the view.
    await views.apply(event.customerId, {
      eventId: message.id,
      version: event.version,
      set: {
        id: event.customerId,
        orders: {
          [event.orderId]: { orderId: event.orderId, state: 'PENDING', orderTotal: { amount: event.total } },
        },
      },
    });
  });
  await consumer.start();

  await orders.transaction((tx) =>
    tx.outbox.send(OrderCreated, { orderId: 7, customerId: 42, total: '12.34', version: 1 }),
  );

  let view: CustomerOrderHistory | undefined;
  for (let i = 0; i < 100 && !view; i++, await new Promise((r) => setTimeout(r, 50)))
    view = await views.get(42);

  await consumer.stop();
  await relay.stop();
  await Promise.all([orderBroker.close(), viewBroker.close(), views.close()]);
  await Promise.all([orders.close(), inbox.close()]);
  return view; // { id: 42, orders: { '7': { orderId: 7, state: 'PENDING', orderTotal: { amount: '12.34' } } } }
}
// #endregion example
