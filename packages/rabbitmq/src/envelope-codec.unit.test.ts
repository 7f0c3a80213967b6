import { testEnvelope } from '@concord/core/testing';
import { describe, expect, it } from 'vitest';
import { BadEnvelopeError } from './index.js';
import { decodeEnvelope, encodeEnvelope } from './spi.js';

describe('envelope codec', () => {
  it('round-trips every field exactly, headers and payload included', () => {
    const sent = testEnvelope('orders', 'o-1', 7, {
      headers: { 'concord-correlation-id': 'c', 'x-custom': 'v', traceparent: '00-abc-def-01' },
      payload: { nested: { list: [1, 'two', null], flag: true }, unicode: 'é✓' },
      schemaVersion: 3,
    });
    const { body, properties } = encodeEnvelope(sent);
    expect(decodeEnvelope(body, 'test')).toEqual(sent);
    expect(properties).toMatchObject({ persistent: true, mandatory: true, messageId: sent.id, type: sent.type });
  });

  it('rejects bodies that are not envelopes with a typed error', () => {
    expect(() => decodeEnvelope(Buffer.from('not json'), 'q')).toThrow(BadEnvelopeError);
    expect(() => decodeEnvelope(Buffer.from('{"id":1}'), 'q')).toThrow(/id is not a string/);
    const bad = { ...testEnvelope('c', 'k', 0), headers: { n: 1 } };
    expect(() => decodeEnvelope(Buffer.from(JSON.stringify(bad)), 'q')).toThrow(/headers/);
  });
});
