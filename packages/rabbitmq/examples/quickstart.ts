// #region quickstart
import { MessageConsumer, OutboxRelay, defineEvent } from '@concord/core';
import { openRabbitBroker } from '@concord/rabbitmq';
import { openSqliteStore } from '@concord/sqlite';
import { z } from 'zod';

export const OrderPlaced = defineEvent('shop.OrderPlaced', {
  channel: 'orders',
  schema: z.object({ orderId: z.string(), total: z.number().int() }),
  partitionKey: (p) => p.orderId,
});

export async function quickstart(dir: string, url = 'amqp://guest:guest@127.0.0.1:5672', prefix = 'concord'): Promise<number> {
  // Two services, each with its own database and its own connection to RabbitMQ.
  const shop = await openSqliteStore({ filename: `${dir}/shop.db` });
  const billing = await openSqliteStore({ filename: `${dir}/billing.db` });
  const shopBroker = await openRabbitBroker({ url, prefix });
  const billingBroker = await openRabbitBroker({ url, prefix });
  await shop.transaction((tx) => tx.handle.exec('CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, total INTEGER)'));
  await billing.transaction((tx) => tx.handle.exec('CREATE TABLE IF NOT EXISTS invoices (order_id TEXT PRIMARY KEY, total INTEGER)'));

  // The business row and the event commit together, or not at all.
  await shop.transaction(async (tx) => {
    tx.handle.prepare('INSERT INTO orders (id, total) VALUES (?, ?)').run('o-1', 4200);
    await tx.outbox.send(OrderPlaced, { orderId: 'o-1', total: 4200 });
  });

  // The relay publishes with publisher confirms; a row is marked sent only once RabbitMQ has it.
  const relay = new OutboxRelay({ store: shop, broker: shopBroker });
  relay.start();
  // Billing may start later: its group reads the `orders` streams from their start.
  const invoicing = new MessageConsumer({ name: 'billing.invoicing', store: billing, broker: billingBroker }).handle(
    OrderPlaced,
    (tx, order) => {
      // Runs once per message even if it is delivered twice: the inbox commits with this insert.
      tx.handle.prepare('INSERT INTO invoices (order_id, total) VALUES (?, ?)').run(order.orderId, order.total);
    },
  );
  await invoicing.start();

  let invoices = 0;
  while (invoices === 0) {
    await new Promise((r) => setTimeout(r, 20));
    invoices = await billing.transaction((tx) => (tx.handle.prepare('SELECT COUNT(*) AS n FROM invoices').get() as { n: number }).n);
  }
  // close() hands partitions over after the batch in flight; nothing is lost or repeated.
  await invoicing.stop();
  await relay.stop();
  await billingBroker.close();
  await shopBroker.close();
  await shop.close();
  await billing.close();
  return invoices;
}
// #endregion quickstart
