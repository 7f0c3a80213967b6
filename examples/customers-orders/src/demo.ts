import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger, type SqlStore } from '@concord/core';
import { openSqliteBroker, openSqliteStore } from '@concord/sqlite';
import type { DemoConfig } from './config.js';
import { CustomerService } from './customer-service/customer-service.js';
import { createDemoServer } from './http/http-server.js';
import { OrderHistoryView } from './order-history/order-history-view.js';
import { OrderService } from './order-service/order-service.js';

export interface RunningDemo {
  readonly url: string;
  readonly customers: CustomerService;
  readonly orders: OrderService;
  readonly history: OrderHistoryView;
  stop(): Promise<void>;
}

/**
 * The whole demo in one process on the embedded default: one SQLite file per service (Customer,
 * Order, Order History) and the SQLite in-database broker, all under `config.dataDir`.
 */
export async function startEmbeddedDemo(config: DemoConfig, logger: Logger = createLogger({ name: 'demo' })): Promise<RunningDemo> {
  const file = (name: string) => join(config.dataDir, `${name}.db`);
  const broker = await openSqliteBroker({ filename: file('broker'), logger });
  const stores: Record<string, SqlStore> = {
    'customer-service': await openSqliteStore({ filename: file('customer-service') }),
    'order-service': await openSqliteStore({ filename: file('order-service') }),
    'order-history': await openSqliteStore({ filename: file('order-history') }),
  };
  const customers = new CustomerService({ store: stores['customer-service']!, broker, mode: config.sagaMode, logger });
  const orders = new OrderService({ store: stores['order-service']!, broker, mode: config.sagaMode, logger });
  const history = new OrderHistoryView({ store: stores['order-history']!, broker, logger });
  await customers.start();
  await orders.start();
  await history.start();

  const server = createDemoServer({ customers, orders, history, stores }, logger);
  await new Promise<void>((resolve) => server.listen(config.port, resolve));
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, dataDir: config.dataDir, sagaMode: config.sagaMode }, `demo listening on http://localhost:${port}`);

  return {
    url: `http://127.0.0.1:${port}`,
    customers,
    orders,
    history,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await history.stop();
      await orders.stop();
      await customers.stop();
      await broker.close();
      for (const store of Object.values(stores)) await store.close();
    },
  };
}
