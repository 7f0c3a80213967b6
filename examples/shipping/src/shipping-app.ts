import { createLogger, type Logger, type SqlStore } from '@concord/core';
import { AdminToken, createHttpServer, listen, Router } from '@concord/http';
import { startCarrierProcess, type CarrierProcess } from './carrier/carrier-process.js';
import type { ShippingConfig } from './config.js';
import { shippingAdminRoutes, shippingRoutes } from './http/shipping-routes.js';
import { CarrierClient } from './shipping/carrier-client.js';
import { ShippingService } from './shipping/shipping-service.js';
import { openShippingStore } from './shipping-store.js';

export interface RunningShipping {
  readonly url: string;
  readonly carrierUrl: string;
  readonly shipping: ShippingService;
  readonly adminToken: AdminToken;
  stop(): Promise<void>;
}

/**
 * The Shipping service and, unless `carrierUrl` names another, the simulated carrier as a
 * child process on `port + 1`.
 */
export async function startShipping(
  config: ShippingConfig,
  logger: Logger = createLogger({ name: 'shipping' }),
  adminToken: AdminToken = AdminToken.fromEnv(),
): Promise<RunningShipping> {
  let carrier: CarrierProcess | undefined;
  if (!config.carrierUrl) {
    carrier = await startCarrierProcess({
      port: config.port === 0 ? 0 : config.port + 1,
      host: config.host,
      dataDir: config.dataDir,
      loss: config.carrierLoss,
    });
  }
  const carrierUrl = config.carrierUrl ?? carrier!.url;
  let store: SqlStore | undefined;
  try {
    store = await openShippingStore(config, logger);
    const shipping = new ShippingService({
      ...config,
      store,
      carrier: new CarrierClient(carrierUrl),
      logger,
    });
    await shipping.start();
    const router = new Router();
    shippingRoutes(router, shipping);
    shippingAdminRoutes(router, shipping);
    router.on('GET', '/health', async () => ({ status: 'ok' }));
    const server = createHttpServer({ router, logger, adminToken });
    const listening = await listen(server, { port: config.port, host: config.host });
    logger.info(
      { port: listening.port, carrierUrl, dataDir: config.dataDir },
      `shipping listening on ${listening.url}`,
    );
    const opened = store;
    return {
      url: listening.url,
      carrierUrl,
      shipping,
      adminToken,
      stop: async () => {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
        await shipping.stop();
        await opened.close();
        await carrier?.stop();
      },
    };
  } catch (error) {
    await store?.close();
    await carrier?.stop();
    throw error;
  }
}
