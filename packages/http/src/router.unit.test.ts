import { describe, expect, it } from 'vitest';
import { HttpError } from './http-error.js';
import { Router } from './router.js';

const noop = async () => undefined;
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return [(error as HttpError).status, (error as HttpError).code];
  }
  return undefined;
};

describe('Router', () => {
  const router = new Router()
    .on('GET', '/orders/:id', noop)
    .on('POST', '/orders/:id/cancel', noop)
    .admin('POST', '/admin/sagas/:id/abort', noop)
    .on('GET', '/swagger-ui/index.html', noop);

  it('matches :params, decodes them, and a trailing slash', () => {
    expect(router.match('GET', '/orders/12').params).toEqual({ id: '12' });
    expect(router.match('GET', '/orders/a%20b/').params).toEqual({ id: 'a b' });
    expect(router.match('HEAD', '/orders/1').admin).toBe(false);
  });

  it('marks .admin routes so the server checks the token', () => {
    expect(router.match('POST', '/admin/sagas/x/abort').admin).toBe(true);
  });

  it('answers 404 for an unknown path, 405 for a known path with the wrong method', () => {
    expect(codeOf(() => router.match('GET', '/nope'))).toEqual([404, 'NOT_FOUND']);
    expect(codeOf(() => router.match('DELETE', '/orders/1'))).toEqual([405, 'METHOD_NOT_ALLOWED']);
    expect(codeOf(() => router.match('GET', '//a:99999/'))).toEqual([404, 'NOT_FOUND']);
  });

  it('refuses bad percent-encoding in a parameter with 400, not a URIError', () => {
    expect(codeOf(() => router.match('GET', '/orders/%E0%A4%A'))).toEqual([400, 'INVALID_PATH']);
    expect(codeOf(() => router.match('GET', '/orders/%'))).toEqual([400, 'INVALID_PATH']);
    expect(codeOf(() => router.match('GET', '/orders/a%00b'))).toEqual([400, 'INVALID_PATH']);
    expect(codeOf(() => router.match('GET', '/orders/%0d%0aX'))).toEqual([400, 'INVALID_PATH']);
  });

  it('treats regex characters in a route literally', () => {
    expect(codeOf(() => router.match('GET', '/swagger-ui/indexXhtml'))).toEqual([404, 'NOT_FOUND']);
    expect(router.match('GET', '/swagger-ui/index.html').params).toEqual({});
  });
});
