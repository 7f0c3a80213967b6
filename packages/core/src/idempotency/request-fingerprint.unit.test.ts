import { describe, expect, it } from 'vitest';
import { canonicalJson, requestFingerprint } from './request-fingerprint.js';
import { IdempotencyKeyReusedError, IdempotencyKeys } from './idempotency-keys.js';
import { isConcordError } from '../errors.js';

describe('request fingerprints', () => {
  it('writes object keys in one order at every level and drops undefined fields', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 2 }], c: null }, u: undefined })).toBe(
      '{"a":{"c":null,"d":[2,{"x":2,"y":1}]},"b":1}',
    );
  });

  it('gives equal requests the same SHA-256 and different ones another', async () => {
    const a = await requestFingerprint({ customerId: 1, orderTotal: 1234 });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await requestFingerprint({ orderTotal: 1234, customerId: 1 })).toBe(a);
    expect(await requestFingerprint({ customerId: 1, orderTotal: 1235 })).not.toBe(a);
    expect(await requestFingerprint({ customerId: '1', orderTotal: 1234 })).not.toBe(a);
  });

  it('names the reused key in a typed error that HTTP layers answer with 422', () => {
    const error = new IdempotencyKeyReusedError('orders.create', 'k-1');
    expect(isConcordError(error, 'IDEMPOTENCY_KEY_REUSED')).toBe(true);
    expect(error.httpStatus).toBe(422);
    expect(error.message).toContain('"k-1"');
  });

  it('refuses a time to live that is not positive', () => {
    const dialect = {} as ConstructorParameters<typeof IdempotencyKeys>[0]['dialect'];
    expect(() => new IdempotencyKeys({ dialect, scope: 's', ttlMs: 0 })).toThrow(/ttlMs must be positive/);
  });
});
