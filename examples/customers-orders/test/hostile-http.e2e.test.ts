import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { Server } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@concord/core';
import { AdminToken, listen } from '@concord/http';
import { rawRequest } from '@concord/http/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type RunningDemo } from '../src/demo.js';
import { createGateway } from '../src/distributed/gateway.js';
import { freezeTable } from '../../../packages/cli/src/testing/sqlite-fault.js';
import { DemoClient, waitUntil } from './demo-client.js';

/** Every /admin route of the demo: each must answer 401 without the token, whatever else is wrong. */
export const ADMIN_ROUTES = [
  ['GET', '/admin/sagas'],
  ['POST', '/admin/sagas/create-order-1/retry'],
  ['POST', '/admin/sagas/create-order-1/resolve'],
  ['POST', '/admin/sagas/create-order-1/abort'],
  ['GET', '/admin/outbox'],
  ['GET', '/admin/dead-letters'],
  ['POST', '/admin/dead-letters/order-service/1/replay'],
  ['POST', '/admin/views/order-history/rebuild'],
] as const;

const SECRET = 'hostile-test-secret';
/** This machine's first non-loopback IPv4 address, if it has one. */
const externalAddress = Object.values(networkInterfaces()).flat().find((i) => i && !i.internal && i.family === 'IPv4')?.address;
const limits = { maxBodyBytes: 64 * 1024, headersTimeoutMs: 1_000, requestTimeoutMs: 1_500 };

/** A TCP "instance" that takes each request and resets the connection, counting what reached it. */
async function resettingUpstream(): Promise<{ server: TcpServer; url: string; received: string[] }> {
  const received: string[] = [];
  const server = createTcpServer((socket: Socket) => {
    socket.once('data', (chunk: Buffer) => {
      received.push(chunk.toString('latin1').split('\r\n')[0]!);
      socket.resetAndDestroy();
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}`, received };
}

/** A TCP "instance" that takes requests and never answers. */
async function silentUpstream(): Promise<{ server: TcpServer; url: string; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createTcpServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, sockets };
}

describe('hostile HTTP input against the demo server and the gateway', () => {
  let dir: string;
  let demo: RunningDemo;
  let gateway: Server;
  let gatewayPort: number;
  const targets: Record<'demo' | 'gateway', number> = { demo: 0, gateway: 0 };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-hostile-'));
    demo = await startDemo(
      {
        port: 0,
        dataDir: dir,
        sagaMode: 'orchestration',
        databaseUrl: undefined,
        brokerUrl: undefined,
        adminToken: AdminToken.parse(`tester:${SECRET}`),
        httpLimits: limits,
        streamLimits: { maxStreamsPerClient: 3 },
      },
      silentLogger,
    );
    targets.demo = Number(new URL(demo.url).port);
    // The in-process demo serves every service's routes, so it stands in for each instance.
    gateway = createGateway(
      { 'customer-service': [demo.url], 'order-service': [demo.url], 'order-history': [demo.url] },
      { logger: silentLogger, adminToken: AdminToken.parse(`tester:${SECRET}`), limits },
    );
    gatewayPort = (await listen(gateway, { port: 0 })).port;
    targets.gateway = gatewayPort;
  });
  afterAll(async () => {
    await new Promise((r) => gateway?.close(r));
    gateway?.closeAllConnections();
    await demo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe.each(['demo', 'gateway'] as const)('%s', (name) => {
    const port = () => targets[name];
    const cases: Array<[string, string | string[], number, string?]> = [
      ['an authority-looking path (new URL would throw)', 'GET //a:99999/ HTTP/1.1\r\nHost: x\r\n\r\n', 404],
      ['an authority-looking path on a POST', 'POST //a:99999/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n', 404],
      ['an absolute-form target with a bad port', 'GET http://a:99999/orders HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'INVALID_URL'],
      ['an absolute-form target', 'GET http://elsewhere.example/orders/999999 HTTP/1.1\r\nHost: x\r\n\r\n', 404],
      ['an asterisk target', 'GET * HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'INVALID_URL'],
      ['bad percent-encoding in an id', 'GET /orders/%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['a NUL in an id (PostgreSQL refuses it in text)', 'GET /sagas/create-order-1%00 HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'INVALID_PATH'],
      ['a NUL in a name', 'POST /customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"name":"a\\u0000b","creditLimit":"1.00"}', 400, 'VALIDATION_FAILED'],
      ['a lone percent sign', 'GET /customers/%/orderhistory HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['bad percent-encoding in a static path', 'GET /console/%ZZ HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'INVALID_PATH'],
      ['a path escaping the console folder', 'GET /console/..%2f..%2fpackage.json HTTP/1.1\r\nHost: x\r\n\r\n', 404],
      ['a malformed request line', 'GET\r\n\r\n', 400, 'BAD_REQUEST'],
      ['garbage', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 400, 'BAD_REQUEST'],
      ['an unknown HTTP version', 'GET /health HTTP/7.0\r\nHost: x\r\n\r\n', 400],
      ['a bad header line', 'GET /health HTTP/1.1\r\nHost x\r\n\r\n', 400],
      ['both content-length and chunked', 'POST /customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
      ['oversized headers', `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
      ['too many headers in total', `GET /health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 5000 }, (_, i) => `X-${i}: v`).join('\r\n')}\r\n\r\n`, 431],
      ['an announced body over the limit', 'POST /customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{', 413, 'BODY_TOO_LARGE'],
      ['a text/plain POST (cross-site form)', 'POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 37\r\n\r\n{"customerId":1,"orderTotal":"1.00"}\n', 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['a form POST to an admin route with the token', `POST /admin/views/order-history/rebuild HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${SECRET}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=b`, 415],
      ['a body without a content-type', 'POST /customers HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}', 415],
      ['a CONNECT', 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n', 405],
      ['an unknown method', 'BREW /orders HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ];
    it.each(cases.map(([label, request, status, code]) => ({ label, request, status, code })))('answers $label with a JSON $status', async ({ request, status, code }) => {
      const answer = await rawRequest(port(), request);
      expect(answer.status).toBe(status);
      expect(answer.json?.error?.code).toBeTypeOf('string');
      if (code) expect(answer.json?.error?.code).toBe(code);
    });

    it('answers 401 on every /admin route without the token, with a wrong one, or a non-Bearer one', async () => {
      for (const [method, path] of ADMIN_ROUTES) {
        for (const auth of ['', 'Authorization: Bearer wrong\r\n', `Authorization: Basic ${SECRET}\r\n`, `Authorization: Bearer tester:${SECRET}\r\n`]) {
          const body = method === 'POST' ? '{"note":"x","step":"s","as":"done"}' : '';
          const answer = await rawRequest(
            port(),
            `${method} ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
          );
          expect([method, path, auth, answer.status, answer.json?.error?.code]).toEqual([method, path, auth, 401, 'UNAUTHORIZED']);
        }
      }
      const ok = await new DemoClient(name === 'demo' ? demo.url : `http://127.0.0.1:${port()}`, SECRET).call('GET', '/admin/outbox');
      expect(ok.status).toBe(200);
    });

    it('cuts a client that sends its headers too slowly, and one that never finishes its body', async () => {
      const slow = await rawRequest(port(), ['GET /health HTTP/1.1\r\n', 'Host: x\r\n', 'X-A: 1\r\n', 'X-B: 1\r\n', 'X-C: 1\r\n', '\r\n'], { delayMs: 700, timeoutMs: 8_000 });
      expect(slow.closedByServer).toBe(true);
      expect(slow.status).toBe(408);
      const stalled = await rawRequest(port(), 'POST /customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":', { timeoutMs: 8_000 });
      expect(stalled.closedByServer).toBe(true);
    });

    it('still serves after all of it', async () => {
      const api = new DemoClient(name === 'demo' ? demo.url : `http://127.0.0.1:${port()}`);
      const customerId = await api.createCustomer('Survivor', '10.00');
      expect((await api.awaitFinal(await api.createOrder(customerId, '4.00'))).orderState).toBe('APPROVED');
    });
  });

  it.skipIf(!externalAddress)('the demo listens on loopback only: its port is closed on the machine\'s other addresses', async () => {
    const port = Number(new URL(demo.url).port);
    const answer = await rawRequest(port, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n', { host: externalAddress!, timeoutMs: 2_000 });
    expect(answer.status).toBeUndefined();
    expect((await rawRequest(port, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n')).status).toBe(200);
  });

  it('records the token\'s name as the actor of a manual action, whatever the body says', async () => {
    const api = new DemoClient(demo.url, SECRET);
    const customerId = await api.createCustomer('Actor', '10.00');
    // Approvals refuse writes: the saga's retriable last step gives up and parks it STUCK, the
    // one state a manual action applies to.
    const frozen = freezeTable(dir, 'order-service', 'example_orders', 'UPDATE');
    let orderId: number;
    try {
      orderId = await api.createOrder(customerId, '1.00');
      await waitUntil(async () => ((await api.call('GET', `/sagas/create-order-${orderId}`)).body as { status?: string }).status === 'STUCK', 60_000);
    } finally {
      frozen.thaw();
    }
    const aborted = await api.call('POST', `/admin/sagas/create-order-${orderId}/abort`, { note: 'test', actor: 'mallory' });
    expect(aborted.status).toBe(200);
    const saga = (await api.call('GET', `/sagas/create-order-${orderId}`)).body as { history: Array<{ event: string; detail: { actor?: string } }> };
    expect(saga.history.find((h) => h.event === 'ABORTED')?.detail.actor).toBe('tester');
  });

  it('the demo refuses event streams over the per-client limit with 429 and releases them when clients leave', async () => {
    const api = new DemoClient(demo.url);
    const customerId = await api.createCustomer('Streams', '1.00');
    const orderId = await api.createOrder(customerId, '5.00');
    await api.awaitFinal(orderId);
    await demo.customers.stop(); // new orders stay PENDING: their streams stay open
    try {
      const pending = await api.createOrder(customerId, '0.10');
      const controllers = Array.from({ length: 3 }, () => new AbortController());
      const open = await Promise.all(controllers.map((c) => fetch(`${demo.url}/orders/${pending}/events`, { signal: c.signal })));
      expect(open.map((r) => r.status)).toEqual([200, 200, 200]);
      const refused = await fetch(`${demo.url}/orders/${pending}/events`);
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('TOO_MANY_STREAMS');
      for (const c of controllers) c.abort();
      for (let i = 0; i < 200 && demo.streams.active > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(demo.streams.active).toBe(0);
    } finally {
      await demo.customers.start();
    }
  });

  describe('the gateway towards failing instances', () => {
    it('never sends a POST without an Idempotency-Key to a second instance after a reset: 502, and the request reached exactly one', async () => {
      const a = await resettingUpstream();
      const b = await resettingUpstream();
      const gw = createGateway(
        { 'customer-service': [a.url, b.url], 'order-service': [a.url, b.url], 'order-history': [a.url, b.url] },
        { logger: silentLogger, adminToken: AdminToken.random() },
      );
      const { url } = await listen(gw, { port: 0 });
      try {
        const res = await fetch(`${url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"customerId":1,"orderTotal":1}' });
        expect(res.status).toBe(502);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UPSTREAM_FAILED');
        expect([...a.received, ...b.received]).toEqual(['POST /orders HTTP/1.1']);
        // A GET is safe to repeat: it goes on to the next instance.
        const get = await fetch(`${url}/orders/1`);
        expect(get.status).toBe(503);
        expect([...a.received, ...b.received].filter((l) => l.startsWith('GET'))).toHaveLength(2);
        // So is a POST with an Idempotency-Key: the service answers a repeat with the first answer.
        const keyed = await fetch(`${url}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': 'k-1' },
          body: '{"customerId":1,"orderTotal":1}',
        });
        expect(keyed.status).toBe(503);
        expect([...a.received, ...b.received].filter((l) => l.startsWith('POST'))).toHaveLength(3);
      } finally {
        gw.close();
        gw.closeAllConnections();
        a.server.close();
        b.server.close();
      }
    });

    it('answers 504 when an instance does not answer in time, and 413 for a body over the limit without forwarding it', async () => {
      const silent = await silentUpstream();
      const gw = createGateway(
        { 'customer-service': [silent.url], 'order-service': [silent.url], 'order-history': [silent.url] },
        { logger: silentLogger, adminToken: AdminToken.random(), limits: { upstreamTimeoutMs: 300, maxBodyBytes: 1024 } },
      );
      const { url } = await listen(gw, { port: 0 });
      try {
        const res = await fetch(`${url}/customers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        expect([res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([504, 'UPSTREAM_TIMEOUT']);
        const before = silent.sockets.length;
        const big = await fetch(`${url}/customers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x'.repeat(5000) }) });
        expect(big.status).toBe(413);
        expect(silent.sockets.length).toBe(before);
      } finally {
        gw.close();
        gw.closeAllConnections();
        for (const s of silent.sockets) s.destroy();
        silent.server.close();
      }
    });
  });
});
