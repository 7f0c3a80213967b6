// #region quickstart
import { MessageConsumer, OutboxRelay, defineEvent } from '@concord/core';
import { openSqliteBroker, openSqliteStore } from '@concord/sqlite';
import { z } from 'zod';

export const OrderPlaced = defineEvent('shop.OrderPlaced', {
  channel: 'orders',
  schema: z.object({ orderId: z.string(), total: z.number().int() }),
  partitionKey: (p) => p.orderId,
});

export async function quickstart(dir: string): Promise<number> {
  const shop = await openSqliteStore({ filename: `${dir}/shop.db` });
  const billing = await openSqliteStore({ filename: `${dir}/billing.db` });
  const broker = await openSqliteBroker({ filename: `${dir}/broker.db` });
  await shop.transaction((tx) => tx.handle.exec('CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, total INTEGER)'));
  await billing.transaction((tx) => tx.handle.exec('CREATE TABLE IF NOT EXISTS invoices (order_id TEXT PRIMARY KEY, total INTEGER)'));

  // The business row and the event commit together, or not at all.
  await shop.transaction(async (tx) => {
    tx.handle.prepare('INSERT INTO orders (id, total) VALUES (?, ?)').run('o-1', 4200);
    await tx.outbox.send(OrderPlaced, { orderId: 'o-1', total: 4200 });
  });

  const relay = new OutboxRelay({ store: shop, broker });
  const invoicing = new MessageConsumer({ name: 'billing.invoicing', store: billing, broker }).handle(
    OrderPlaced,
    (tx, order) => {
      // Runs once per message even if it is delivered twice: the inbox commits with this insert.
      tx.handle.prepare('INSERT INTO invoices (order_id, total) VALUES (?, ?)').run(order.orderId, order.total);
    },
  );
  relay.start();
  await invoicing.start();

  let invoices = 0;
  while (invoices === 0) {
    await new Promise((r) => setTimeout(r, 20));
    invoices = await billing.transaction((tx) => (tx.handle.prepare('SELECT COUNT(*) AS n FROM invoices').get() as { n: number }).n);
  }
  await invoicing.stop();
  await relay.stop();
  await broker.close();
  await shop.close();
  await billing.close();
  return invoices;
}
// #endregion quickstart
