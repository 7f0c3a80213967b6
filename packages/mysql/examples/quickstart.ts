// #region quickstart
import { MessageConsumer, defineEvent } from '@concord/core';
import { createMysqlRelay, openMysqlBroker, openMysqlStore } from '@concord/mysql';
import { z } from 'zod';

export const OrderPlaced = defineEvent('shop.OrderPlaced', {
  channel: 'orders',
  schema: z.object({ orderId: z.string(), total: z.number().int() }),
  partitionKey: (p) => p.orderId,
});

/** `server` is e.g. mysql://root@127.0.0.1:3306; each service gets its own database. */
export async function quickstart(server: string, suffix = ''): Promise<number> {
  const shop = await openMysqlStore({ connectionString: `${server}/shop${suffix}`, createDatabase: true });
  const billing = await openMysqlStore({ connectionString: `${server}/billing${suffix}`, createDatabase: true });
  const broker = await openMysqlBroker({ connectionString: `${server}/broker${suffix}`, createDatabase: true });
  await shop.transaction((tx) => tx.handle.query('CREATE TABLE IF NOT EXISTS orders (id VARCHAR(64) PRIMARY KEY, total INT)'));
  await billing.transaction((tx) => tx.handle.query('CREATE TABLE IF NOT EXISTS invoices (order_id VARCHAR(64) PRIMARY KEY, total INT)'));

  // The business row and the event commit together, or not at all: tx.handle is the
  // transaction's own mysql2 connection.
  await shop.transaction(async (tx) => {
    await tx.handle.query('INSERT INTO orders (id, total) VALUES (?, ?)', ['o-1', 4200]);
    await tx.outbox.send(OrderPlaced, { orderId: 'o-1', total: 4200 });
  });

  // 'polling' works on any server; 'tailing' reads the row-based binary log instead.
  const relay = await createMysqlRelay({ mode: 'polling', store: shop, broker });
  const invoicing = new MessageConsumer({ name: 'billing.invoicing', store: billing, broker }).handle(
    OrderPlaced,
    async (tx, order) => {
      // Runs once per message even if it is delivered twice: the inbox commits with this insert.
      await tx.handle.query('INSERT INTO invoices (order_id, total) VALUES (?, ?)', [order.orderId, order.total]);
    },
  );
  relay.start();
  await invoicing.start();

  let invoices = 0;
  while (invoices === 0) {
    await new Promise((r) => setTimeout(r, 20));
    const [rows] = await billing.transaction((tx) => tx.handle.query('SELECT COUNT(*) AS n FROM invoices'));
    invoices = Number((rows as Array<{ n: number }>)[0]!.n);
  }
  await invoicing.stop();
  await relay.stop();
  await broker.close();
  await shop.close();
  await billing.close();
  return invoices;
}
// #endregion quickstart
