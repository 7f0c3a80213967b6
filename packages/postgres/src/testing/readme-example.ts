import { defineEvent, MessageConsumer } from '@concord/core';
import { z } from 'zod';
import { createPostgresRelay, openPostgresBroker, openPostgresStore } from '@concord/postgres';

const OrderPlaced = defineEvent('orders.OrderPlaced', {
  channel: 'orders',
  schema: z.object({ orderId: z.number().int(), total: z.number() }),
  partitionKey: (p) => String(p.orderId),
});

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/orders_example';
const store = await openPostgresStore({ connectionString: url, createDatabase: true });
const broker = await openPostgresBroker({ connectionString: url }); // or NATS, RabbitMQ, Redis
await store.transaction((tx) => tx.handle.query('CREATE TABLE IF NOT EXISTS orders (id int PRIMARY KEY, total numeric)'));

// Moves committed outbox rows to the broker; 'tailing' reads them from the WAL instead.
const relay = createPostgresRelay({ mode: 'polling', store, broker });
relay.start();

const consumer = new MessageConsumer({ name: 'billing', store, broker }).handle(OrderPlaced, async (tx, order) => {
  // Runs exactly once in effect: the inbox row commits with whatever this handler writes.
  console.log('bill order', order.orderId, order.total);
});
await consumer.start();

// The business change and its message commit together, or not at all.
await store.transaction(async (tx) => {
  await tx.handle.query('INSERT INTO orders (id, total) VALUES ($1, $2) ON CONFLICT DO NOTHING', [1, 42.5]);
  await tx.outbox.send(OrderPlaced, { orderId: 1, total: 42.5 });
});

await new Promise((r) => setTimeout(r, 1_000));
await consumer.stop();
await relay.stop();
await broker.close();
await store.close();
