import type { Server } from 'node:http';
import { silentLogger, type Logger } from '@concord/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AdminToken } from './admin-token.js';
import { AddressInUseError, createHttpServer, listen } from './http-server.js';
import { Router } from './router.js';
import { rawRequest } from './testing/raw-request.js';

const errors: unknown[] = [];
const logger: Logger = { ...silentLogger, error: (obj: object) => void errors.push(obj), child: () => logger };

describe('createHttpServer', () => {
  let server: Server;
  let url: string;
  let port: number;
  const token = AdminToken.parse('ops-alice:alice-secret');
  const seen: unknown[] = [];

  beforeAll(async () => {
    const router = new Router()
      .on('POST', '/echo', async (ctx) => ({ body: (await ctx.body()) ?? null, actor: ctx.actor ?? null }))
      .on('GET', '/items/:id', async (ctx) => ({ id: ctx.params.id, q: ctx.query.get('q') }))
      .on('GET', '/boom', async () => {
        throw new Error('bug');
      })
      .on('POST', '/validate', async (ctx) => z.object({ n: z.number() }).parse(await ctx.body()))
      .admin('POST', '/admin/act', async (ctx) => {
        const body = (await ctx.body()) as Record<string, unknown>;
        seen.push({ actor: ctx.actor, body });
        return { actor: ctx.actor };
      });
    server = createHttpServer({ router, logger, adminToken: token, limits: { maxBodyBytes: 1024, maxHeaderBytes: 2048, headersTimeoutMs: 500, requestTimeoutMs: 800 } });
    ({ url, port } = await listen(server, { port: 0 }));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const post = (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(url + path, { method: 'POST', headers, body });

  it('listens on loopback unless told otherwise', () => {
    expect(server.address()).toMatchObject({ address: '127.0.0.1' });
    expect(url).toBe(`http://127.0.0.1:${port}`);
  });

  it('refuses a taken port with a typed ADDRESS_IN_USE error naming the address', async () => {
    const second = createHttpServer({ router: new Router(), logger, adminToken: token });
    const refused = await listen(second, { port }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AddressInUseError);
    expect(refused).toMatchObject({ code: 'ADDRESS_IN_USE', port, host: '127.0.0.1' });
    expect((refused as Error).message).toContain(`127.0.0.1:${port} is already in use`);
    expect(second.listening).toBe(false);
  });

  it('takes the actor from the token, never from the body', async () => {
    const res = await post('/admin/act', JSON.stringify({ actor: 'mallory' }), { 'content-type': 'application/json', authorization: 'Bearer alice-secret' });
    expect(await res.json()).toEqual({ actor: 'ops-alice' });
    expect(seen).toEqual([{ actor: 'ops-alice', body: { actor: 'mallory' } }]);
  });

  it('answers 401 without a token or with a wrong one, before reading the body', async () => {
    for (const headers of [{ 'content-type': 'application/json' } as Record<string, string>, { 'content-type': 'application/json', authorization: 'Bearer nope' }]) {
      const res = await post('/admin/act', '{}', headers);
      expect([res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([401, 'UNAUTHORIZED']);
    }
    expect(seen).toHaveLength(1);
  });

  it('refuses a body that is not application/json with 415 (a cross-site text/plain POST is never parsed)', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp']) {
      const res = await post('/echo', '{"a":1}', { 'content-type': type });
      expect([type, res.status]).toEqual([type, 415]);
    }
    const none = await rawRequest(port, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}');
    expect([none.status, none.json?.error?.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    expect(await (await post('/echo', '{"a":1}', { 'content-type': 'application/json; charset=utf-8' })).json()).toEqual({ body: { a: 1 }, actor: null });
    expect(await (await post('/echo', '', { 'content-type': 'application/merge-patch+json' })).json()).toEqual({ body: null, actor: null });
  });

  it('bounds bodies: 413 by content-length, and while reading a chunked one', async () => {
    expect((await post('/echo', JSON.stringify({ a: 'x'.repeat(2000) }))).status).toBe(413);
    const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
    const chunked = await rawRequest(port, [
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
      chunk(`"${'y'.repeat(900)}`),
      chunk(`${'y'.repeat(900)}"`),
      '0\r\n\r\n',
    ], { delayMs: 20 });
    expect([chunked.status, chunked.json?.error?.code]).toEqual([413, 'BODY_TOO_LARGE']);
  });

  it('maps malformed JSON and zod errors to 400 and a bug to a logged 500, and keeps serving', async () => {
    expect((await post('/echo', '{"a":')).status).toBe(400);
    const invalid = await post('/validate', '{"n":"x"}');
    expect([invalid.status, ((await invalid.json()) as { error: { code: string } }).error.code]).toEqual([400, 'VALIDATION_FAILED']);
    const boom = await fetch(`${url}/boom`);
    expect([boom.status, await boom.json()]).toEqual([500, { error: { code: 'INTERNAL', message: 'internal error; see the server log' } }]);
    expect(errors).toHaveLength(1);
    expect((await fetch(`${url}/items/1`)).status).toBe(200);
  });

  it('answers hostile request lines and targets with a JSON 4xx, never a crash', async () => {
    const cases: Array<[string, number]> = [
      ['GET //a:99999/ HTTP/1.1\r\nHost: x\r\n\r\n', 404],
      ['GET http://x:99999/items/1 HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['GET http://x/items/7?q=z HTTP/1.1\r\nHost: x\r\n\r\n', 200],
      ['GET /items/%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['GET * HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n', 405],
      ['GET /items/1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', 400],
      ['GARBAGE\r\n\r\n', 400],
      ['GET / HTTP/9.9\r\n\r\n', 400],
      [`GET /items/1 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(4000)}\r\n\r\n`, 431],
    ];
    for (const [request, status] of cases) {
      const answer = await rawRequest(port, request);
      expect([request.slice(0, 40), answer.status]).toEqual([request.slice(0, 40), status]);
      if (status !== 200) expect(answer.json?.error?.code).toBeTypeOf('string');
    }
    expect((await fetch(`${url}/items/2`)).status).toBe(200);
  });

  it('drops a client that sends its headers too slowly (408) or never finishes its body', async () => {
    const slowHeaders = await rawRequest(port, ['GET /items/1 HTTP/1.1\r\n', 'Host: x\r\n', 'X-A: 1\r\n', 'X-B: 1\r\n', '\r\n'], { delayMs: 400, timeoutMs: 5_000 });
    expect(slowHeaders.closedByServer).toBe(true);
    expect(slowHeaders.status).toBe(408);
    const stalledBody = await rawRequest(port, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"a"', { timeoutMs: 5_000 });
    expect(stalledBody.closedByServer).toBe(true);
  });
});
