import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@concord/core';
import { AdminToken, createHttpServer, listen, Router } from '@concord/http';
import type { InventoryConfig } from './config.js';
import { adminRoutes } from './http/admin-routes.js';
import { inventoryRoutes } from './http/inventory-routes.js';
import { startInventoryServices, type InventoryServices } from './inventory-services.js';

const consoleDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'console');

export interface RunningInventory {
  readonly url: string;
  readonly adminToken: AdminToken;
  /** Carries the token (in the fragment) only when it was generated. */
  readonly consoleUrl: string;
  readonly services: InventoryServices;
  stop(): Promise<void>;
}

/** The Purchase and Stock services behind one HTTP server, with the reconciliation console at /console. */
export async function startInventory(config: InventoryConfig, logger: Logger, adminToken = AdminToken.fromEnv()): Promise<RunningInventory> {
  const services = await startInventoryServices(config, logger);
  const router = new Router();
  inventoryRoutes(router, services);
  adminRoutes(router, services);
  const server = createHttpServer({ router, logger, adminToken, static: { '/console': consoleDir } });
  let url: string;
  try {
    ({ url } = await listen(server, { port: config.port, host: config.host }));
  } catch (error) {
    await services.stop();
    throw error;
  }
  logger.info({ url, database: config.databaseUrl, redis: config.redisUrl, redisPrefix: config.redisPrefix }, `inventory listening on ${url}`);
  return {
    url,
    adminToken,
    consoleUrl: adminToken.consoleUrl(url),
    services,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await services.stop();
    },
  };
}
