import { createLogger, type Logger, type Relay, type SqlStore } from '@concord/core';
import { Infrastructure } from '@concord/example-customers-orders/infrastructure';
import { AdminToken, createHttpServer, listen, Router } from '@concord/http';
import type { FoodDeliveryConfig } from './config.js';
import { DeliveryService } from './delivery-service/delivery-service.js';
import { adminRoutes } from './http/admin-routes.js';
import { foodRoutes } from './http/food-routes.js';
import { KitchenService } from './kitchen-service/kitchen-service.js';
import { OrderService } from './order-service/order-service.js';
import { ReleaseWatch } from './release-watch.js';

export interface RunningFoodDelivery {
  readonly url: string;
  readonly adminToken: AdminToken;
  readonly kitchens: KitchenService;
  readonly delivery: DeliveryService;
  readonly orders: OrderService;
  readonly stores: Readonly<Record<string, SqlStore>>;
  stop(): Promise<void>;
}

const SERVICES = ['food-order-service', 'kitchen-service', 'delivery-service'] as const;

/**
 * Order, Kitchen and Delivery services in one process, each with its own database (SQLite
 * files under `dataDir` by default), joined by one broker, behind one HTTP server.
 */
export async function startFoodDelivery(config: FoodDeliveryConfig, logger: Logger = createLogger({ name: 'food-delivery' })): Promise<RunningFoodDelivery> {
  const infra = new Infrastructure(config, logger);
  const broker = await infra.openBroker();
  const opened = await Promise.all(SERVICES.map(async (n) => [n, await infra.openStore(n)] as const));
  const stores = Object.fromEntries(opened) as Record<(typeof SERVICES)[number], SqlStore>;
  const ttl = config.reservationTtlMs;
  const kitchens = new KitchenService({ store: stores['kitchen-service'], broker, logger, reservationTtlMs: ttl });
  const delivery = new DeliveryService({ store: stores['delivery-service'], broker, logger, reservationTtlMs: ttl });
  const orders = new OrderService({ store: stores['food-order-service'], broker, logger });
  await kitchens.start();
  await delivery.start();
  await orders.start();
  const relays: Relay[] = [];
  for (const store of Object.values(stores)) relays.push(await infra.startRelay(store, broker));

  const adminToken = config.adminToken ?? AdminToken.random();
  const router = new Router();
  foodRoutes(router, { kitchens, delivery, orders, releases: new ReleaseWatch(kitchens, delivery) });
  adminRoutes(router, { orders, stores });
  router.on('GET', '/health', async () => ({ status: 'ok' }));
  const server = createHttpServer({ router, logger, adminToken });
  const { url } = await listen(server, { port: config.port, host: config.host });
  logger.info({ url, dataDir: config.dataDir, infrastructure: infra.describe(), reservationTtlMs: ttl }, `food delivery listening on ${url}`);

  return {
    url,
    adminToken,
    kitchens,
    delivery,
    orders,
    stores,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      for (const relay of relays) await relay.stop();
      await orders.stop();
      await delivery.stop();
      await kitchens.stop();
      await broker.close();
      for (const store of Object.values(stores)) await store.close();
    },
  };
}
