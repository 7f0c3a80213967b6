import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCommand } from '../saga/command-definition.js';
import { defineEvent } from './message-definition.js';
import { upcastFrom, upcastPayload } from './message-versions.js';

// Version 1 had a single name; version 2 split it; version 3 added a currency.
type V1 = { customerId: number; name: string };
type V2 = { customerId: number; firstName: string; lastName: string };
const V3 = z.object({ customerId: z.number(), firstName: z.string(), lastName: z.string(), currency: z.string() });

const versions = upcastFrom<V1>()
  .then((v1): V2 => {
    const [firstName = '', ...rest] = v1.name.split(' ');
    return { customerId: v1.customerId, firstName, lastName: rest.join(' ') };
  })
  .then((v2) => ({ ...v2, currency: 'EUR' }));

const CustomerRegistered = defineEvent('t.CustomerRegistered', { channel: 'customers', schema: V3, versions });

describe('message versions', () => {
  it('numbers the definition 1 + its upcasters and upcasts each older version in order', () => {
    expect(CustomerRegistered.schemaVersion).toBe(3);
    expect(upcastPayload(CustomerRegistered, { schemaVersion: 1, payload: { customerId: 7, name: 'Ada King Lovelace' } })).toEqual({
      kind: 'current',
      payload: { customerId: 7, firstName: 'Ada', lastName: 'King Lovelace', currency: 'EUR' },
    });
    expect(
      upcastPayload(CustomerRegistered, { schemaVersion: 2, payload: { customerId: 7, firstName: 'Ada', lastName: 'L' } }),
    ).toEqual({ kind: 'current', payload: { customerId: 7, firstName: 'Ada', lastName: 'L', currency: 'EUR' } });
    const current = { customerId: 7, firstName: 'Ada', lastName: 'L', currency: 'GBP' };
    expect(upcastPayload(CustomerRegistered, { schemaVersion: 3, payload: current })).toEqual({ kind: 'current', payload: current });
  });

  it('reads an envelope without a usable version as version 1', () => {
    const result = upcastPayload(CustomerRegistered, { schemaVersion: Number.NaN, payload: { customerId: 1, name: 'A B' } });
    expect(result).toMatchObject({ kind: 'current', payload: { firstName: 'A', lastName: 'B', currency: 'EUR' } });
  });

  it('reports a newer version than it knows with a reason naming both versions', () => {
    expect(upcastPayload(CustomerRegistered, { schemaVersion: 4, payload: {} })).toEqual({
      kind: 'newer',
      reason: 'schemaVersion 4 is newer than this consumer knows (3) for t.CustomerRegistered',
    });
  });

  it('reports an upcaster that throws, naming the versions, instead of throwing', () => {
    const Strict = defineEvent('t.Strict', {
      channel: 'c',
      schema: z.object({ cents: z.number() }),
      versions: upcastFrom<{ euros: string }>().then((v1) => {
        if (Number.isNaN(Number(v1.euros))) throw new Error(`"${v1.euros}" is not a number`);
        return { cents: Number(v1.euros) * 100 };
      }),
    });
    expect(upcastPayload(Strict, { schemaVersion: 1, payload: { euros: 'ten' } })).toEqual({
      kind: 'failed',
      reason: 'upcasting t.Strict from schemaVersion 1 to 2 failed: "ten" is not a number',
    });
  });

  it('lets a compatible change bump the version without upcasters, and refuses a contradicting number', () => {
    const Widened = defineEvent('t.Widened', { channel: 'c', schema: z.object({ a: z.number() }), schemaVersion: 2 });
    expect(upcastPayload(Widened, { schemaVersion: 1, payload: { a: 1 } })).toEqual({ kind: 'current', payload: { a: 1 } });
    expect(() => defineEvent('t.Bad', { channel: 'c', schema: V3, versions, schemaVersion: 2 })).toThrow(
      /schemaVersion 2 contradicts its 2 upcaster\(s\), which make it version 3/,
    );
    expect(() => defineEvent('t.Bad', { channel: 'c', schema: V3, schemaVersion: 0 })).toThrow(/positive integer/);
  });

  it('versions commands the same way', () => {
    const Reserve = defineCommand('t.Reserve', {
      channel: 'customers',
      schema: z.object({ orderId: z.number(), cents: z.number() }),
      replies: { Reserved: z.object({}) },
      versions: upcastFrom(z.object({ orderId: z.number(), euros: z.number() })).then((v1) => ({ orderId: v1.orderId, cents: v1.euros * 100 })),
    });
    expect(Reserve.schemaVersion).toBe(2);
    expect(upcastPayload(Reserve, { schemaVersion: 1, payload: { orderId: 1, euros: 2 } })).toEqual({
      kind: 'current',
      payload: { orderId: 1, cents: 200 },
    });
  });

  it('checks the chain at compile time', () => {
    upcastFrom<V1>()
      // @ts-expect-error -- version 1 has no firstName: an upcaster reads only what the previous version had
      .then((v1) => ({ first: v1.firstName }));
    // @ts-expect-error -- the chain ends without `currency`, so it does not fit the current schema
    defineEvent('t.Short', { channel: 'c', schema: V3, versions: upcastFrom<V1>().then((v1) => ({ customerId: v1.customerId, firstName: v1.name, lastName: '' })) });
    defineCommand('t.Cmd', {
      channel: 'c',
      schema: z.object({ n: z.number() }),
      replies: { Ok: z.object({}) },
      // @ts-expect-error -- a command's upcasters must end at its schema too
      versions: upcastFrom<{ m: string }>().then((v1) => ({ n: v1.m })),
    });
    expect(true).toBe(true);
  });
});
