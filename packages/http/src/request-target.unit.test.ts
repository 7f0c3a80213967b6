import { describe, expect, it } from 'vitest';
import { HttpError } from './http-error.js';
import { parseRequestTarget } from './request-target.js';

describe('parseRequestTarget', () => {
  it('splits origin-form targets by hand, whatever they look like', () => {
    expect(parseRequestTarget('//a:99999/').path).toBe('//a:99999/');
    const t = parseRequestTarget('/orders?status=STUCK&limit=%ZZ');
    expect([t.path, t.query.get('status'), t.pathAndQuery]).toEqual(['/orders', 'STUCK', '/orders?status=STUCK&limit=%ZZ']);
    expect(parseRequestTarget('/a#frag').path).toBe('/a');
  });

  it('takes the path of an absolute-form target', () => {
    expect(parseRequestTarget('http://example.com/orders/1?x=1')).toMatchObject({ path: '/orders/1', pathAndQuery: '/orders/1?x=1' });
  });

  it('refuses anything else with 400 INVALID_URL', () => {
    for (const target of [undefined, '', '*', 'example.com:443', 'http://a:99999/', 'http://[::1/', 'ftp://x/']) {
      expect(() => parseRequestTarget(target), String(target)).toThrow(HttpError);
    }
  });
});
