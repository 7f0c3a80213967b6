import { createLogger, type Broker, type Logger, type Relay, type SqlStore } from '@concord/core';
import { AdminToken, listen } from '@concord/http';
import type { DemoConfig } from './config.js';
import { CustomerService } from './customer-service/customer-service.js';
import { createDemoServer } from './http/http-server.js';
import { Infrastructure, type ServiceName } from './infrastructure.js';
import { OrderHistoryView } from './order-history/order-history-view.js';
import { OrderService } from './order-service/order-service.js';

export interface RunningDemo {
  readonly url: string;
  /** Guards /admin/*; `consoleUrl` carries it when it was generated. */
  readonly adminToken: AdminToken;
  readonly consoleUrl: string;
  readonly customers: CustomerService;
  readonly orders: OrderService;
  readonly history: OrderHistoryView;
  stop(): Promise<void>;
}

/**
 * The whole demo in one process: Customer, Order and Order History services, each with its own
 * database (SQLite files under `dataDir` by default, or databases on the server in
 * `databaseUrl`), joined by one broker, behind one HTTP server.
 */
export async function startDemo(config: DemoConfig, logger: Logger = createLogger({ name: 'demo' })): Promise<RunningDemo> {
  const infra = new Infrastructure(config, logger);
  const broker: Broker = await infra.openBroker();
  const names: ServiceName[] = ['customer-service', 'order-service', 'order-history'];
  const stores = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await infra.openStore(n)] as const))) as Record<
    ServiceName,
    SqlStore
  >;
  const customers = new CustomerService({ store: stores['customer-service'], broker, mode: config.sagaMode, logger });
  const orders = new OrderService({ store: stores['order-service'], broker, mode: config.sagaMode, logger });
  const history = new OrderHistoryView({ store: stores['order-history'], broker, logger });
  await customers.start();
  await orders.start();
  await history.start();
  const relays: Relay[] = [
    await infra.startRelay(stores['customer-service'], broker),
    await infra.startRelay(stores['order-service'], broker),
  ];

  const adminToken = config.adminToken ?? AdminToken.random();
  const server = createDemoServer({ customers, orders, history, stores }, { logger, adminToken });
  const { port, host, url } = await listen(server, { port: config.port, host: config.host });
  logger.info({ port, host, dataDir: config.dataDir, sagaMode: config.sagaMode, infrastructure: infra.describe() }, `demo listening on ${url}`);

  return {
    url,
    adminToken,
    consoleUrl: adminToken.consoleUrl(url),
    customers,
    orders,
    history,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      for (const relay of relays) await relay.stop();
      await history.stop();
      await orders.stop();
      await customers.stop();
      await broker.close();
      for (const store of Object.values(stores)) await store.close();
    },
  };
}
