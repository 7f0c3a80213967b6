/**
 * Random hostile requests for the fuzz test: a seeded generator (so a failure can be replayed
 * with the printed seed) of HTTP-client requests and raw-socket byte strings.
 */

/** mulberry32: small, fast, seedable. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ClientRequest {
  readonly kind: 'client';
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}
export interface RawBytes {
  readonly kind: 'raw';
  readonly bytes: Buffer;
}

export function hostileRequests(seed: number, context: { customerIds: number[]; adminSecret: string }) {
  const rnd = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!;
  const int = (max: number) => Math.floor(rnd() * max);
  const junk = (n: number) => Array.from({ length: n }, () => String.fromCharCode(int(0x2ff))).join('');

  const ids = () =>
    pick([
      String(1 + int(50)), '0', '-1', '1.5', '1e3', '9'.repeat(30), 'abc', '%00', '%E0%A4%A', '%', '%25', '%2F..%2F', encodeURIComponent(junk(5)),
      '..', '.', '', 'null', '💥', '%F0%9F%92%A5', ' ', '%20', '1;DROP TABLE orders', '1%0d%0aX: y', String(context.customerIds[0] ?? 1),
    ]);
  const paths = () =>
    pick([
      () => `/customers/${ids()}`, () => `/customers/${ids()}/orderhistory`, () => `/orders/${ids()}`, () => `/orders/${ids()}/cancel`,
      () => `/orders/${ids()}/events`, () => `/sagas/${ids()}`, () => `/sagas/create-order-${ids()}`, () => '/orders', () => '/customers',
      () => `/admin/sagas?status=${pick(['STUCK', 'x', '', '%ZZ'])}&limit=${ids()}`, () => `/admin/sagas/${ids()}/${pick(['retry', 'resolve', 'abort'])}`,
      () => '/admin/outbox', () => '/admin/dead-letters', () => `/admin/dead-letters/${pick(['order-service', 'x', '%'])}/${ids()}/replay`,
      () => '/admin/views/order-history/rebuild', () => '/openapi.json', () => '/health', () => `/console/${pick(['', 'index.html', '../x', '%2e%2e/package.json', '%ZZ'])}`,
      () => `/swagger-ui/${pick(['', 'index.html', 'nope.js', '..%2F..%2Fpackage.json'])}`, () => `//${junk(3)}:99999/`, () => `/${junk(int(40))}`,
      () => `/orders?${junk(10)}`, () => `/${'a/'.repeat(int(500))}`,
    ])();
  const jsonBodies = () =>
    pick([
      () => JSON.stringify({ customerId: pick(context.customerIds), orderTotal: { amount: pick(['1.00', '0.01', '2.50', '-1', '1.234', 'x', '1e9']) } }),
      () => JSON.stringify({ customerId: pick(context.customerIds), orderTotal: pick([1, 0, -5, 1e308, 'NaN', null, [], {}]) }),
      () => JSON.stringify({ name: pick(['', 'x', junk(10), 'a'.repeat(300)]), creditLimit: pick([5, '5', { amount: '5.00' }, -1, null]) }),
      () => JSON.stringify({ note: pick(['', 'x', junk(50)]), actor: 'mallory', step: pick(['reserve-credit', 'x']), as: pick(['done', 'compensated', 'x']) }),
      () => '{"a":', () => '[]', () => 'null', () => '"str"', () => '1', () => junk(20), () => '{"__proto__":{"x":1}}',
      () => '['.repeat(5000) + ']'.repeat(5000), () => JSON.stringify({ big: 'x'.repeat(int(3) === 0 ? 2_000_000 : 1000) }),
    ])();

  function client(): ClientRequest {
    const method = pick(['GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']);
    const headers: Record<string, string> = {};
    const type = pick(['application/json', 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8', 'application/problem+json', '']);
    if (type) headers['content-type'] = type;
    if (rnd() < 0.3) headers.authorization = pick([`Bearer ${context.adminSecret}`, 'Bearer wrong', `Basic ${context.adminSecret}`, 'Bearer', junk(5).replace(/[^\x20-\x7e]/g, 'x')]);
    if (rnd() < 0.2) headers['idempotency-key'] = pick(['k1', 'a b', 'x'.repeat(300), `fuzz-${int(20)}`]);
    if (rnd() < 0.1) headers['x-forwarded-for'] = pick(['1.2.3.4', 'junk', '']);
    const body = method === 'GET' || method === 'HEAD' ? undefined : jsonBodies();
    return { kind: 'client', method, path: paths(), headers, ...(body === undefined ? {} : { body }) };
  }

  function raw(): RawBytes {
    const line = () => `${pick(['GET', 'POST', 'get', 'G\0T', 'PRI', 'CONNECT', 'X'.repeat(int(100))])} ${pick([paths(), '*', 'http://a:99999/x', `http://${junk(4)}/`, '', junk(10)])} ${pick(['HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 extra', ''])}`;
    const header = () => pick([`X-${int(100)}: ${junk(int(20))}`, 'Content-Length: -1', 'Content-Length: 1, 2', 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked', 'Host:', ': empty', 'Bad Header: x', `X-Long: ${'a'.repeat(int(3) === 0 ? 20_000 : 100)}`, 'Content-Type: text/plain', `Authorization: Bearer ${pick([context.adminSecret, 'x'])}`]);
    const variants = [
      () => `${line()}\r\nHost: x\r\n${Array.from({ length: int(5) }, header).join('\r\n')}\r\n\r\n`,
      () => `${line()}\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${int(200)}\r\n\r\n${jsonBodies().slice(0, 300)}`,
      () => `POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${pick(['zz\r\n', '5\r\n{"a":\r\n0\r\n\r\n', 'FFFFFFFFFFFFFFFF\r\n'])}`,
      () => junk(int(200)),
      () => `${line()}\n${header()}\n\n`,
      () => `${line()}\r\n`.repeat(1 + int(3)),
      () => `GET /health HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(1 + int(20)), // pipelining
    ];
    return { kind: 'raw', bytes: Buffer.from(pick(variants)(), 'utf8') };
  }

  return { next: (): ClientRequest | RawBytes => (rnd() < 0.6 ? client() : raw()), rnd };
}
