import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope } from './spi.js';

describe('envelope codec', () => {
  const envelope = {
    id: '01920000-0000-7000-8000-000000000001',
    type: 'orders.OrderCreated',
    channel: 'orders',
    partitionKey: 'order\n42 ',
    headers: { 'concord-correlation-id': 'c', 'Nats-Rollup': 'all', 'with: colon': ' line\r\nbreak ', '': 'empty name' },
    schemaVersion: 3,
    payload: { nested: { list: [1, 'two', null, true] }, unicode: 'zß水🙂' },
    createdAt: 1_730_000_000_123,
  };

  it('round-trips every field exactly, including headers no NATS header could carry', () => {
    expect(decodeEnvelope(encodeEnvelope(envelope))).toEqual(envelope);
  });

  it('names what is wrong with bytes that are not an envelope', () => {
    const bytes = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
    expect(decodeEnvelope(bytes('not json'))).toMatch(/^body is not JSON/);
    expect(decodeEnvelope(bytes(42))).toBe('body is not an object');
    expect(decodeEnvelope(bytes({ ...envelope, id: 7 }))).toBe('id is not a string');
    expect(decodeEnvelope(bytes({ ...envelope, createdAt: '1' }))).toBe('schemaVersion or createdAt is not a number');
    expect(decodeEnvelope(bytes({ ...envelope, headers: { a: 1 } }))).toBe('a header value is not a string');
  });
});
