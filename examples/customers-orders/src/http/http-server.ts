import type { Server } from 'node:http';
import type { Logger } from '@concord/core';
import { createHttpServer, Router, type AdminToken, type HttpLimits } from '@concord/http';
import { adminRoutes, type AdminServices } from './admin-routes.js';
import { demoRoutes, type DemoServices } from './demo-routes.js';
import { openApiDocument } from './openapi.js';
import { opsRoutes, type OpsServices } from './ops-routes.js';
import { staticMounts, swaggerIndexRoutes } from './static-assets.js';

export interface DemoServerOptions {
  readonly logger: Logger;
  readonly adminToken: AdminToken;
  readonly limits?: HttpLimits;
}

/** The demo's HTTP API, Swagger UI and operator console on one server. */
export function createDemoServer(services: DemoServices & AdminServices & Partial<OpsServices>, options: DemoServerOptions): Server {
  const router = new Router();
  demoRoutes(router, services);
  adminRoutes(router, services);
  if (services.metrics && services.readiness) opsRoutes(router, { metrics: services.metrics, readiness: services.readiness });
  return createServiceServer(router, options);
}

/** A server for `router` plus /openapi.json, /health, Swagger UI and the console. */
export function createServiceServer(router: Router, options: DemoServerOptions): Server {
  const openapi = openApiDocument();
  router.on('GET', '/openapi.json', async () => openapi).on('GET', '/health', async () => ({ status: 'ok' }));
  swaggerIndexRoutes(router);
  return createHttpServer({ router, ...options, static: staticMounts });
}
