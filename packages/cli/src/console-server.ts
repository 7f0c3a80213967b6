import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { consoleMounts } from '@concord/console';

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
const MAX_BODY = 1 << 20;

export interface ConsoleServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the operator console on loopback and forwards its API calls (`/admin/*`) to the
 * service at `target`, the browser's own Authorization header included: the console works
 * against a service that does not serve it (or serves an older one), and the token never
 * leaves the operator's machine except to that service.
 */
export async function startConsoleServer(target: URL, port: number, host = '127.0.0.1'): Promise<ConsoleServer> {
  const mounts = Object.entries(consoleMounts('/console'));
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 502, 'application/json', JSON.stringify({ error: { code: 'BAD_GATEWAY', message: (error as Error).message } }));
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/' || path === '/console') return void res.writeHead(302, { location: '/console/' }).end();
    if (path.startsWith('/admin/')) return forward(req, res);
    for (const [prefix, dir] of mounts) {
      if (!path.startsWith(`${prefix}/`)) continue;
      const file = resolve(join(dir, decodeURIComponent(path.slice(prefix.length + 1)) || 'index.html'));
      if (!file.startsWith(resolve(dir) + sep) || !(await stat(file).catch(() => undefined))?.isFile()) break;
      return send(res, 200, TYPES[extname(file)] ?? 'application/octet-stream', await readFile(file));
    }
    send(res, 404, 'application/json', JSON.stringify({ error: { code: 'NOT_FOUND', message: `no such file ${path}` } }));
  }

  async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) return send(res, 413, 'application/json', JSON.stringify({ error: { code: 'BODY_TOO_LARGE', message: 'request body is over 1 MiB' } }));
      chunks.push(chunk);
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    for (const name of ['authorization', 'content-type']) if (typeof req.headers[name] === 'string') headers[name] = req.headers[name];
    const method = req.method ?? 'GET';
    const upstream = await fetch(new URL(req.url ?? '/', target), {
      method,
      headers,
      ...(method === 'GET' || method === 'HEAD' ? {} : { body: Buffer.concat(chunks) }),
      signal: AbortSignal.timeout(120_000),
    });
    send(res, upstream.status, upstream.headers.get('content-type') ?? 'application/json', Buffer.from(await upstream.arrayBuffer()));
  }

  await new Promise<void>((ok, fail) => server.once('error', fail).listen(port, host, ok));
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${actual}`,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}
