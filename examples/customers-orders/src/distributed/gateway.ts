import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '@concord/core';
import { HttpError, toHttpError } from '../http/http-errors.js';
import { openApiDocument } from '../http/openapi.js';
import { sendJson } from '../http/router.js';
import { serveConsole, serveSwagger } from '../http/static-assets.js';
import type { ServiceName } from '../infrastructure.js';

/** Base URLs (`http://127.0.0.1:port`) of each service's instances. */
export type Upstreams = Readonly<Record<ServiceName, readonly string[]>>;

/** Which service answers a path: the same public API as `npm start`, split by owner. */
export function serviceFor(path: string): ServiceName | 'fan-out' | undefined {
  if (/^\/customers\/[^/]+\/orderhistory\/?$/.test(path)) return 'order-history';
  if (path === '/customers' || path.startsWith('/customers/')) return 'customer-service';
  if (path === '/orders' || path.startsWith('/orders/') || path.startsWith('/sagas/')) return 'order-service';
  if (path.startsWith('/admin/sagas')) return 'order-service';
  if (path.startsWith('/admin/views/')) return 'order-history';
  if (path === '/admin/outbox' || path === '/admin/dead-letters') return 'fan-out';
  const replay = /^\/admin\/dead-letters\/([^/]+)\//.exec(path);
  if (replay && ['customer-service', 'order-service', 'order-history'].includes(replay[1]!)) return replay[1] as ServiceName;
  return undefined;
}

/**
 * The distributed demo's single HTTP entry point: proxies each request (streams included) to an
 * instance of the owning service, round robin, trying the next instance when one is down.
 */
export function createGateway(upstreams: Upstreams, logger: Logger): Server {
  const next = new Map<ServiceName, number>();
  const openapi = openApiDocument();

  function proxy(req: IncomingMessage, res: ServerResponse, service: ServiceName, body: Buffer): Promise<void> {
    const instances = upstreams[service];
    const start = next.get(service) ?? 0;
    next.set(service, start + 1);
    return new Promise((resolve, reject) => {
      const attempt = (i: number) => {
        if (i >= instances.length) return reject(new HttpError(503, 'SERVICE_UNAVAILABLE', `no instance of ${service} answers`));
        const target = new URL(req.url ?? '/', instances[(start + i) % instances.length]);
        const upstream = request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', resolve);
          answer.on('error', resolve);
          res.on('close', () => answer.destroy());
        });
        upstream.on('error', (error: NodeJS.ErrnoException) => {
          if (res.headersSent) return resolve();
          if (error.code === 'ECONNREFUSED' || error.code === 'ECONNRESET') return attempt(i + 1);
          reject(error);
        });
        upstream.end(body);
      };
      attempt(0);
    });
  }

  async function fanOut(path: string): Promise<unknown> {
    const key = path === '/admin/outbox' ? 'outbox' : 'deadLetters';
    const merged: Record<string, unknown> = {};
    for (const instances of Object.values(upstreams)) {
      for (const base of instances) {
        const answer = await fetch(new URL(path, base)).catch(() => undefined);
        if (!answer?.ok) continue;
        Object.assign(merged, ((await answer.json()) as Record<string, Record<string, unknown>>)[key]);
        break;
      }
    }
    return { [key]: merged };
  }

  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    const respond = async () => {
      if (req.method === 'GET' && path === '/health') return sendJson(res, 200, { status: 'ok' });
      if (req.method === 'GET' && path === '/openapi.json') return sendJson(res, 200, openapi);
      if (req.method === 'GET' && (path === '/swagger-ui' || path.startsWith('/swagger-ui/'))) return serveSwagger(res, path.slice(12));
      if (req.method === 'GET' && (path === '/console' || path.startsWith('/console/'))) return serveConsole(res, path.slice(9));
      const service = serviceFor(path);
      if (!service) throw new HttpError(404, 'NOT_FOUND', `no route for ${req.method} ${path}`);
      if (service === 'fan-out') return sendJson(res, 200, await fanOut(path));
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      await proxy(req, res, service, Buffer.concat(chunks));
    };
    respond().catch((error: unknown) => {
      const http = toHttpError(error);
      if (http.status >= 500) logger.error({ err: error, path }, 'gateway request failed');
      if (res.headersSent) return res.end();
      sendJson(res, http.status, { error: { code: http.code, message: http.message } });
    });
  });
}
