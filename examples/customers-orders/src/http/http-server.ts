import { createServer, type Server } from 'node:http';
import type { Logger } from '@concord/core';
import { adminRoutes, type AdminServices } from './admin-routes.js';
import { demoRoutes, type DemoServices } from './demo-routes.js';
import { HttpError, toHttpError } from './http-errors.js';
import { openApiDocument } from './openapi.js';
import { opsRoutes, type OpsServices } from './ops-routes.js';
import { Router, sendJson } from './router.js';
import { serveConsole, serveSwagger } from './static-assets.js';

/** The demo's HTTP API, Swagger UI and operator console on one node:http server. */
export function createDemoServer(services: DemoServices & AdminServices & Partial<OpsServices>, logger: Logger): Server {
  const router = new Router();
  demoRoutes(router, services);
  adminRoutes(router, services);
  if (services.metrics && services.readiness) opsRoutes(router, { metrics: services.metrics, readiness: services.readiness });
  return createRouterServer(router, logger);
}

/** A node:http server for `router`, plus /openapi.json, /health, Swagger UI and the console. */
export function createRouterServer(router: Router, logger: Logger): Server {
  const openapi = openApiDocument();
  router.on('GET', '/openapi.json', async () => openapi).on('GET', '/health', async () => ({ status: 'ok' }));

  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const respond = async () => {
      if (req.method === 'GET' && (path === '/swagger-ui' || path.startsWith('/swagger-ui/'))) {
        return serveSwagger(res, path.slice('/swagger-ui/'.length));
      }
      if (req.method === 'GET' && (path === '/console' || path.startsWith('/console/'))) {
        return serveConsole(res, path.slice('/console/'.length));
      }
      const { handler, params } = router.match(req.method ?? 'GET', path);
      const result = await handler(router.context(req, res, params, url.searchParams));
      if (result !== undefined) sendJson(res, 200, result);
    };
    respond().catch((error: unknown) => {
      const http = toHttpError(error);
      if (http.status >= 500) logger.error({ err: error, method: req.method, path }, 'request failed');
      if (res.headersSent) return res.end();
      sendJson(res, http.status, { error: { code: http.code, message: http.message } });
    });
  });
}

export { HttpError };
