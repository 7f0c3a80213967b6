import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ConcordError, ConcordErrorCode, type Logger } from '@concord/core';
import type { AdminToken } from './admin-token.js';
import { errorBody, toHttpError } from './http-error.js';
import { sendJson } from './params.js';
import { checkBodyHeaders, DEFAULT_MAX_BODY_BYTES, readJsonBody } from './request-body.js';
import { parseRequestTarget, type RequestTarget } from './request-target.js';
import type { AdminRouteContext, Router } from './router.js';
import { findStaticFile, sendStaticFile, type StaticMounts } from './static-files.js';

/** Bounds on what one client can make the server hold; every one has a deliberate default. */
export interface HttpLimits {
  /** Largest JSON body (413 above). Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Request line plus headers (431 above). Default 16 KiB. */
  readonly maxHeaderBytes?: number;
  /** Time to receive the headers (slow-loris). Default 10 s. */
  readonly headersTimeoutMs?: number;
  /** Time to receive the whole request, body included. Default 30 s. */
  readonly requestTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open. Default 5 s. */
  readonly keepAliveTimeoutMs?: number;
}

export interface HttpServerOptions {
  readonly router: Router;
  readonly logger: Logger;
  /** Guards every `.admin` route. */
  readonly adminToken: AdminToken;
  /** Files served for GET/HEAD under a prefix when no route matches: `{ '/console': dir }`. */
  readonly static?: StaticMounts;
  readonly limits?: HttpLimits;
}

export const BODYLESS_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Handles one request whose target already parsed; anything it throws becomes the error answer. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse, target: RequestTarget) => Promise<void>;

/**
 * A node:http server in which every request, whatever its bytes, ends in an answer through one
 * error path: 4xx for the client's mistakes, 500 (logged) for the server's, never a crash.
 * Requests node itself refuses (malformed, headers too large, too slow) get a JSON 400/431/408.
 */
export function createRequestServer(options: { logger: Logger; limits?: HttpLimits | undefined; handle: RequestHandler }): Server {
  const { logger, handle } = options;
  const limits = options.limits ?? {};
  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes ?? 16 * 1024,
      headersTimeout: limits.headersTimeoutMs ?? 10_000,
      requestTimeout: limits.requestTimeoutMs ?? 30_000,
      keepAliveTimeout: limits.keepAliveTimeoutMs ?? 5_000,
      connectionsCheckingInterval: 1_000,
    },
    (req, res) => {
      // Parsing inside the promise: a target that does not parse is a 400 like any other mistake.
      Promise.resolve()
        .then(() => handle(req, res, parseRequestTarget(req.url)))
        .catch((error: unknown) => answerError(req, res, error, logger));
    },
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket));
  // Without these listeners node would hand CONNECT/Upgrade requests nowhere and drop the socket.
  server.on('connect', (_req: IncomingMessage, socket: Socket) => refuseRaw(socket, 405, 'METHOD_NOT_ALLOWED', 'CONNECT is not supported'));
  server.on('upgrade', (_req: IncomingMessage, socket: Socket) => refuseRaw(socket, 400, 'UPGRADE_NOT_SUPPORTED', 'protocol upgrades are not supported'));
  return server;
}

/** A server for `router`: admin routes checked against `adminToken`, JSON-only bounded bodies, static files. */
export function createHttpServer(options: HttpServerOptions): Server {
  const { router, logger, adminToken } = options;
  const maxBody = options.limits?.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return createRequestServer({ logger, limits: options.limits, handle });

  async function handle(req: IncomingMessage, res: ServerResponse, { path, query }: RequestTarget): Promise<void> {
    const method = req.method ?? 'GET';
    let match;
    try {
      match = router.match(method, path);
    } catch (error) {
      const file = (method === 'GET' || method === 'HEAD') && options.static ? findStaticFile(options.static, path) : undefined;
      if (!file) throw error;
      return sendStaticFile(res, file.dir, file.file, method === 'HEAD');
    }
    const actor = match.admin ? adminToken.require(req.headers.authorization) : undefined;
    if (!BODYLESS_METHODS.has(method)) checkBodyHeaders(req, maxBody);
    let body: Promise<unknown> | undefined;
    const ctx = { req, res, params: match.params, query, actor, body: () => (body ??= readJsonBody(req, maxBody)) };
    const result = await match.handler(ctx as AdminRouteContext);
    if (result !== undefined) sendJson(res, 200, result);
  }
}

function answerError(req: IncomingMessage, res: ServerResponse, error: unknown, logger: Logger): void {
  const http = toHttpError(error);
  if (http.status >= 500) logger.error({ err: error, method: req.method, url: req.url?.slice(0, 200) }, 'request failed');
  if (res.headersSent || res.destroyed) {
    res.end();
    return;
  }
  // A body we did not read to its end would be parsed as the next request: close instead.
  sendJson(res, http.status, errorBody(http), req.complete ? {} : { connection: 'close' });
}

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'HEADERS_TOO_LARGE', 'the request line and headers are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'REQUEST_TIMEOUT', 'the request was not received in time'],
};

/** A request node could not parse (or that came too slowly): a JSON error, then close. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
  const [status, code, message] = CLIENT_ERRORS[error.code ?? ''] ?? [400, 'BAD_REQUEST', 'the request is not valid HTTP/1.1'];
  refuseRaw(socket, status, code, message);
}

/** A JSON error written straight to a socket node took out of HTTP handling, then close. */
function refuseRaw(socket: Socket, status: number, code: string, message: string): void {
  if (!socket.writable) return void socket.destroy();
  const text = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
  );
}

export interface Listening {
  readonly port: number;
  readonly host: string;
  /** `http://host:port`, for logs and links. */
  readonly url: string;
}

/** Another process already listens on the address: a setting to change, not a crash to retry. */
export class AddressInUseError extends ConcordError {
  constructor(
    readonly host: string,
    readonly port: number,
    cause: unknown,
  ) {
    super(ConcordErrorCode.ADDRESS_IN_USE, `${host}:${port} is already in use by another process; choose another PORT (0 picks a free one)`, { cause });
    this.name = 'AddressInUseError';
  }
}

/**
 * Starts listening; the host defaults to loopback (127.0.0.1) so nothing is exposed by accident.
 * Rejects with {@link AddressInUseError} when the port is taken.
 */
export function listen(server: Server, options: { port: number; host?: string | undefined }): Promise<Listening> {
  const host = options.host || '127.0.0.1';
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new AddressInUseError(host, options.port, error) : error);
    server.once('error', failed);
    server.listen(options.port, host, () => {
      server.off('error', failed);
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      resolve({ port, host, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}` });
    });
  });
}
