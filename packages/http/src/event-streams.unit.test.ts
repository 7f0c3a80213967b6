import { request, type Server } from 'node:http';
import { silentLogger } from '@concord/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminToken } from './admin-token.js';
import { EventStreams, forwardedClient, type EventStream } from './event-streams.js';
import { createHttpServer, listen } from './http-server.js';
import { Router } from './router.js';
import { rawRequest } from './testing/raw-request.js';

const until = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
};

describe('EventStreams', () => {
  const streams = new EventStreams({ maxStreams: 4, maxStreamsPerClient: 2, idleTimeoutMs: 1_500, heartbeatMs: 200, clientKey: forwardedClient });
  const cleanedUp: string[] = [];
  let gate: (() => void) | undefined;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    const router = new Router().on('GET', '/events/:name', async (ctx) => {
      const stream = streams.open(ctx.req, ctx.res);
      stream.onClose(() => cleanedUp.push(ctx.params.name!));
      // "The first read": the client may leave while the handler awaits it.
      if (ctx.params.name === 'slow-first-read') await new Promise<void>((r) => (gate = r));
      stream.send('hello', { name: ctx.params.name }, 1);
      await new Promise<void>((r) => stream.onClose(r));
      return undefined;
    });
    server = createHttpServer({ router, logger: silentLogger, adminToken: AdminToken.random() });
    ({ port } = await listen(server, { port: 0 }));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const open = (name: string, client = 'c1') =>
    new Promise<{ status: number; body: string; close: () => void }>((resolve) => {
      const req = request({ port, path: `/events/${name}`, headers: { 'x-forwarded-for': client } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c;
          if (res.statusCode !== 200 || body.includes('\n\n')) resolve({ status: res.statusCode!, body, close: () => req.destroy() });
        });
        res.on('error', () => {});
      });
      req.on('error', () => {});
      req.end();
    });

  it('sends events, and refuses a client over its limit (429) and the server over its total (503)', async () => {
    const a = await open('a', 'c1');
    expect(a.body).toContain('event: hello\ndata: {"name":"a"}');
    const b = await open('b', 'c1');
    const c = await open('c', 'c1');
    expect([c.status, JSON.parse(c.body).error.code]).toEqual([429, 'TOO_MANY_STREAMS']);
    const d = await open('d', 'c2');
    const e = await open('e', 'c2');
    const f = await open('f', 'c3');
    expect([f.status, JSON.parse(f.body).error.code]).toEqual([503, 'TOO_MANY_STREAMS']);
    expect(streams.active).toBe(4);
    for (const s of [a, b, d, e]) s.close();
    await until(() => streams.active === 0);
    expect(cleanedUp).toEqual(expect.arrayContaining(['a', 'b', 'd', 'e']));
  });

  it('cleans up a stream whose client left during the first read', async () => {
    const answer = rawRequest(port, 'GET /events/slow-first-read HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 100 });
    await until(() => gate !== undefined);
    await answer; // the client is gone; the handler is still in its first read
    await until(() => streams.active === 0);
    gate!();
    await until(() => cleanedUp.includes('slow-first-read'));
    expect(streams.active).toBe(0);
  });

  it('sends heartbeats and closes an idle stream', async () => {
    // Connection: close, so the answer is complete when the server ends the stream.
    const answer = await rawRequest(port, 'GET /events/idle HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { timeoutMs: 15_000 });
    expect(answer.closedByServer).toBe(true);
    expect(answer.text).toContain(': keep-alive');
    expect(answer.text.endsWith('0\r\n\r\n')).toBe(true); // the response ended (EventSource reconnects)
    expect(streams.active).toBe(0);
  });

  it('ends every stream and refuses new ones on closeAll(refuse)', async () => {
    const local = new EventStreams();
    const fake = { destroyed: false, headersSent: false, once: () => {}, destroy: () => {} } as never;
    const s: EventStream = local.open({ socket: { remoteAddress: 'x', destroyed: false }, headers: {} } as never, fake);
    local.closeAll(true);
    expect([s.closed, local.active]).toEqual([true, 0]);
    expect(() => local.open({ socket: { remoteAddress: 'x' }, headers: {} } as never, fake)).toThrow(/shutting down/);
  });
});
