import { InvalidArgumentError } from '@concord/core';
import { testEnvelope } from '@concord/core/testing';
import { describe, expect, it } from 'vitest';
import { envelopeFields, envelopeFromFields } from './envelope-codec.js';
import { RedisUnexpectedReplyError } from './redis-errors.js';
import { flatten, unflatten } from './view-paths.js';

describe('envelope fields', () => {
  it('round-trip an envelope exactly', () => {
    const e = testEnvelope('orders', 'k:1', 3, {
      headers: { traceparent: '00-abc-def-01', 'concord-saga-id': 's' },
      payload: { nested: { list: [1, 'two', null], n: 1.25 }, unicode: 'ünïcødé ✓' },
      schemaVersion: 7,
    });
    expect(envelopeFromFields('orders', envelopeFields(e))).toEqual(e);
  });

  it('refuse an entry that is not an envelope', () => {
    expect(() => envelopeFromFields('orders', ['foo', 'bar'])).toThrow(RedisUnexpectedReplyError);
  });
});

describe('view paths', () => {
  it('flatten nested objects to dotted leaves and read them back in any order', () => {
    const value = { a: 1, b: { c: 'x', d: { e: [1, 2] } }, empty: {}, nil: null };
    const flat = flatten(value);
    expect(flat).toEqual([
      ['a', '1'],
      ['b.c', '"x"'],
      ['b.d.e', '[1,2]'],
      ['empty', '{}'],
      ['nil', 'null'],
    ]);
    expect(unflatten([...flat].reverse())).toEqual(value);
  });

  it('keep children of an empty-object leaf written earlier', () => {
    expect(
      unflatten([
        ['orders.7.state', '"PENDING"'],
        ['orders', '{}'],
      ]),
    ).toEqual({ orders: { '7': { state: 'PENDING' } } });
  });

  it('refuse names that could not be read back or would pollute prototypes', () => {
    expect(() => flatten({ 'a.b': 1 })).toThrow(InvalidArgumentError);
    expect(() => flatten({ a: { constructor: 1 } })).toThrow(InvalidArgumentError);
    expect(unflatten([['__proto__.x', '1']])).toEqual({});
  });
});
