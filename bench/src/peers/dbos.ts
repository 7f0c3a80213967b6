import { DBOS } from '@dbos-inc/dbos-sdk';
import { OrderDatabases, orderInput, urlOf } from './order-databases.js';
import type { PeerSystem } from './peer-system.js';

/**
 * DBOS Transact: the saga as a durable workflow of three steps (each one local transaction on
 * the order or customer database); DBOS checkpoints every step in its system database.
 * DBOS is a process-wide singleton, so it is launched once per bench process.
 */
export async function openDbos(prefix: string): Promise<PeerSystem> {
  const dbs = await OrderDatabases.create(prefix, 100);
  const createOrder = DBOS.registerWorkflow(
    async (orderId: number, customerId: number, total: number) => {
      await DBOS.runStep(() => dbs.insertPending(orderId, customerId, total), { name: 'insertPending' });
      const ok = await DBOS.runStep(() => dbs.reserveCredit(customerId, total), { name: 'reserveCredit' });
      await DBOS.runStep(() => dbs.finish(orderId, ok), { name: 'finish' });
      return ok;
    },
    { name: 'createOrder' },
  );
  DBOS.setConfig({ name: 'concord-bench', applicationVersion: '0.1.0', systemDatabaseUrl: urlOf(`${prefix}_dbos_sys`) });
  await DBOS.launch();
  return {
    name: 'DBOS Transact 5.3',
    databasePrefix: prefix,
    async runSaga(i) {
      const { customerId, total } = orderInput(i);
      const handle = await DBOS.startWorkflow(createOrder)(dbs.newOrderId(), customerId, total);
      await handle.getResult();
    },
    async close() {
      await DBOS.shutdown();
      await dbs.close();
    },
  };
}
