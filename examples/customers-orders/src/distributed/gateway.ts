import { Agent, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '@concord/core';
import {
  BODYLESS_METHODS,
  checkBodyHeaders,
  createRequestServer,
  DEFAULT_MAX_BODY_BYTES,
  findStaticFile,
  HttpError,
  readBoundedBody,
  sendJson,
  sendStaticFile,
  type AdminToken,
  type HttpLimits,
  type RequestTarget,
} from '@concord/http';
import { openApiDocument } from '../http/openapi.js';
import { staticMounts, swaggerIndexHtml } from '../http/static-assets.js';
import type { ServiceName } from '../infrastructure.js';

/** Base URLs (`http://127.0.0.1:port`) of each service's instances. */
export type Upstreams = Readonly<Record<ServiceName, readonly string[]>>;

export interface GatewayOptions {
  readonly logger: Logger;
  /** Checked here too, so an unauthenticated /admin request never reaches (or loads) a service. */
  readonly adminToken: AdminToken;
  readonly limits?: HttpLimits & {
    /** How long an upstream may take to start answering (504 after). Default 30 s. */
    readonly upstreamTimeoutMs?: number;
  };
}

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

// Hop-by-hop headers (RFC 9110 §7.6.1) are the gateway's own business, not forwarded.
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization'];

function forwardable(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out = { ...headers };
  for (const name of HOP_BY_HOP) delete out[name];
  return out;
}

/** A request that failed before any answer came back, with whether it certainly never reached the instance. */
class UpstreamFailure extends Error {
  constructor(
    readonly neverSent: boolean,
    readonly timedOut: boolean,
    cause: unknown,
  ) {
    super('upstream failed', { cause });
  }
}

/**
 * The distributed demo's single HTTP entry point: proxies each request (streams included) to an
 * instance of the owning service, round robin. It moves on to the next instance only when the
 * request certainly did not reach one (connection refused), or when it is a GET/HEAD or carries
 * an Idempotency-Key: a POST without one whose connection was reset may have taken effect, so it
 * is never sent twice (that made orders nobody was told of); the client gets a 502 and retries
 * with its Idempotency-Key.
 */
export function createGateway(upstreams: Upstreams, options: GatewayOptions): Server {
  const { logger, adminToken } = options;
  const maxBody = options.limits?.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const upstreamTimeoutMs = options.limits?.upstreamTimeoutMs ?? 30_000;
  // An idle socket is dropped after 2 s, well before the services' 5 s keep-alive timeout:
  // reusing one the service has just closed resets the request, and a POST is then not retried.
  const agent = new Agent({ keepAlive: true, maxSockets: 256, timeout: 2_000 });
  const next = new Map<ServiceName, number>();
  const openapi = openApiDocument();

  function send(base: string, req: IncomingMessage, res: ServerResponse, pathAndQuery: string, body: Buffer): Promise<void> {
    const target = new URL(base);
    return new Promise((resolve, reject) => {
      let answered = false;
      const upstream = request({
        agent,
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: pathAndQuery,
        headers: {
          ...forwardable(req.headers),
          host: target.host,
          'content-length': String(body.length),
          // Replaced, never appended: a client cannot pick the address its streams count against.
          'x-forwarded-for': req.socket.remoteAddress ?? 'unknown',
        },
      });
      // Until the answer starts: SSE streams then run as long as they need.
      const timer = setTimeout(() => upstream.destroy(Object.assign(new Error('upstream timeout'), { code: 'ETIMEDOUT' })), upstreamTimeoutMs);
      upstream.on('response', (answer) => {
        answered = true;
        clearTimeout(timer);
        res.writeHead(answer.statusCode ?? 502, forwardable(answer.headers));
        answer.pipe(res);
        answer.once('end', resolve);
        // Cut mid-answer: the client must see a truncated response, not a complete-looking one.
        answer.once('error', () => {
          res.destroy();
          resolve();
        });
        res.once('close', () => {
          answer.destroy();
          upstream.destroy();
          resolve();
        });
      });
      upstream.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (answered) return;
        reject(new UpstreamFailure(error.code === 'ECONNREFUSED', error.code === 'ETIMEDOUT', error));
      });
      // The client left before the answer: stop waiting for it.
      res.once('close', () => {
        if (!answered) upstream.destroy();
      });
      upstream.end(body);
    });
  }

  async function proxy(req: IncomingMessage, res: ServerResponse, service: ServiceName, pathAndQuery: string, body: Buffer): Promise<void> {
    const instances = upstreams[service];
    const start = next.get(service) ?? 0;
    next.set(service, start + 1);
    // With an Idempotency-Key the service answers a repeat with the first answer: sending it
    // again is what the client would do, only sooner.
    const idempotent = BODYLESS_METHODS.has(req.method ?? 'GET') || req.headers['idempotency-key'] !== undefined;
    for (let i = 0; i < instances.length; i++) {
      try {
        return await send(instances[(start + i) % instances.length]!, req, res, pathAndQuery, body);
      } catch (error) {
        if (!(error instanceof UpstreamFailure)) throw error;
        if (res.destroyed) return;
        if (error.neverSent || (idempotent && !error.timedOut)) continue;
        logger.warn({ err: error.cause, service, method: req.method, path: pathAndQuery.slice(0, 200) }, 'upstream failed; not retried');
        if (error.timedOut) throw new HttpError(504, 'UPSTREAM_TIMEOUT', `${service} did not answer within ${upstreamTimeoutMs} ms`);
        throw new HttpError(
          502,
          'UPSTREAM_FAILED',
          `${service} failed while handling the request; it may or may not have taken effect (retry with the same Idempotency-Key)`,
        );
      }
    }
    throw new HttpError(503, 'SERVICE_UNAVAILABLE', `no instance of ${service} answers`);
  }

  async function fanOut(path: string, authorization: string | undefined): Promise<unknown> {
    const key = path === '/admin/outbox' ? 'outbox' : 'deadLetters';
    const merged: Record<string, unknown> = {};
    for (const instances of Object.values(upstreams)) {
      for (const base of instances) {
        const answer = await fetch(new URL(path, base), {
          headers: authorization ? { authorization } : {},
          signal: AbortSignal.timeout(upstreamTimeoutMs),
        }).catch(() => undefined);
        if (!answer?.ok) continue;
        Object.assign(merged, ((await answer.json()) as Record<string, Record<string, unknown>>)[key]);
        break;
      }
    }
    return { [key]: merged };
  }

  return createRequestServer({
    logger,
    limits: options.limits,
    handle: async (req, res, { path, pathAndQuery }: RequestTarget) => {
      const method = req.method ?? 'GET';
      if (method === 'GET' || method === 'HEAD') {
        if (path === '/health') return sendJson(res, 200, { status: 'ok' });
        if (path === '/openapi.json') return sendJson(res, 200, openapi);
        if (path === '/swagger-ui' || path === '/swagger-ui/index.html') return swaggerIndexHtml(res);
        const file = findStaticFile(staticMounts, path);
        if (file) return sendStaticFile(res, file.dir, file.file, method === 'HEAD');
      }
      const service = serviceFor(path);
      if (!service) throw new HttpError(404, 'NOT_FOUND', `no route for ${method} ${path.slice(0, 200)}`);
      if (path.startsWith('/admin/')) adminToken.require(req.headers.authorization);
      if (service === 'fan-out') return sendJson(res, 200, await fanOut(path, req.headers.authorization));
      if (!BODYLESS_METHODS.has(method)) checkBodyHeaders(req, maxBody);
      const body = BODYLESS_METHODS.has(method) ? Buffer.alloc(0) : await readBoundedBody(req, maxBody);
      await proxy(req, res, service, pathAndQuery, body);
    },
  });
}
