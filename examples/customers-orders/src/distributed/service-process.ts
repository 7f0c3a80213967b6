/**
 * One service instance of the distributed demo: `SERVICE=customer-service|order-service|
 * order-history PORT=… CONCORD_DATABASE_URL=… CONCORD_BROKER_URL=…`. It serves only its own
 * routes; the gateway sends each request to an instance of the right service.
 */
import { createLogger, InvalidArgumentError, type Relay } from '@concord/core';
import { readConfig } from '../config.js';
import { startCpuProfileIfAsked } from './cpu-profile.js';
import { CustomerService } from '../customer-service/customer-service.js';
import { sagaAdminRoutes, storeAdminRoutes, viewAdminRoutes } from '../http/admin-routes.js';
import { customerRoutes, historyRoutes, orderRoutes } from '../http/demo-routes.js';
import { listen, Router } from '@concord/http';
import { createServiceServer } from '../http/http-server.js';
import { Infrastructure, type ServiceName } from '../infrastructure.js';
import { OrderHistoryView } from '../order-history/order-history-view.js';
import { OrderService } from '../order-service/order-service.js';

const service = process.env.SERVICE as ServiceName;
if (!['customer-service', 'order-service', 'order-history'].includes(service)) {
  throw new InvalidArgumentError(`SERVICE must be customer-service, order-service or order-history, got "${service}"`);
}
const config = readConfig();
const stopProfile = await startCpuProfileIfAsked(`${service}-${process.env.INSTANCE ?? '1'}`);
const logger = createLogger({ name: `${service}#${process.env.INSTANCE ?? '1'}`, level: process.env.CONCORD_LOG_LEVEL ?? 'info' });
const infra = new Infrastructure(config, logger);
const broker = await infra.openBroker();
const store = await infra.openStore(service);
const router = new Router();
const stops: Array<() => Promise<void>> = [];
let relay: Relay | undefined;

if (service === 'customer-service') {
  const customers = new CustomerService({ store, broker, mode: config.sagaMode, logger });
  await customers.start();
  stops.push(() => customers.stop());
  customerRoutes(router, customers);
  relay = await infra.startRelay(store, broker);
} else if (service === 'order-service') {
  // Another instance may commit a watched order's change: re-read watched orders every 20 ms.
  const orders = new OrderService({ store, broker, mode: config.sagaMode, logger, crossProcessPollMs: 20 });
  await orders.start();
  stops.push(() => orders.stop());
  orderRoutes(router, orders);
  sagaAdminRoutes(router, orders);
  relay = await infra.startRelay(store, broker);
} else {
  const history = new OrderHistoryView({ store, broker, logger });
  await history.start();
  stops.push(() => history.stop());
  historyRoutes(router, history);
  viewAdminRoutes(router, history);
}
storeAdminRoutes(router, { [service]: store });

// The launcher hands every instance the same token (its own, or the one it generated).
const server = createServiceServer(router, { logger, adminToken: config.adminToken! });
// Instances are reached only through the gateway: loopback always, whatever HOST says.
await listen(server, { port: config.port, host: '127.0.0.1' });
logger.info({ port: config.port, infrastructure: infra.describe() }, `${service} ready`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await stopProfile();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await relay?.stop();
  for (const s of stops.reverse()) await s();
  await broker.close();
  await store.close();
}
function stopAndExit(): void {
  stop().then(
    () => process.exit(0),
    (error: unknown) => {
      logger.error({ err: error }, 'stop failed');
      process.exit(1);
    },
  );
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, stopAndExit);
// Started by the launcher: when it goes away (however it died), so does this process.
process.on('disconnect', stopAndExit);
