import { OrderDatabases, orderInput } from './order-databases.js';
import type { PeerSystem } from './peer-system.js';

/**
 * The same three local transactions called directly, with no durability between them: the
 * floor for what any saga framework asks of the database (3 commits per saga).
 */
export async function openHandWritten(prefix: string): Promise<PeerSystem> {
  const dbs = await OrderDatabases.create(prefix, 100);
  return {
    name: 'hand-written: 3 local transactions, direct calls',
    databasePrefix: prefix,
    async runSaga(i) {
      const { customerId, total } = orderInput(i);
      const orderId = dbs.newOrderId();
      await dbs.insertPending(orderId, customerId, total);
      const ok = await dbs.reserveCredit(customerId, total);
      await dbs.finish(orderId, ok);
    },
    async close() {
      await dbs.close();
    },
  };
}
