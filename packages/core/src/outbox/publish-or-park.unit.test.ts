import { describe, expect, it } from 'vitest';
import { MessageRejectedError } from '../errors.js';
import type { MessageEnvelope } from '../message/envelope.js';
import type { Broker } from '../ports/broker.js';
import type { OutboxRecord } from '../ports/store.js';
import { testEnvelope } from '../testing/broker-conformance.js';
import { publishOrPark } from './publish-or-park.js';

const records: OutboxRecord[] = [1, 2, 3].map((seq) => ({ position: seq, shard: 0, envelope: testEnvelope('c', 'k', seq) }));

function broker(publish: (messages: readonly MessageEnvelope[]) => Promise<void>): Broker {
  return {
    name: 'fake',
    capabilities: { partitionedConsumers: false, durable: true },
    publish,
    subscribe: () => Promise.reject(new Error('not used')),
    close: async () => {},
  };
}

describe('publishOrPark', () => {
  it('parks what the broker refuses and publishes the rest, in order, without it', async () => {
    const calls: number[][] = [];
    const refuse = records[1]!.envelope.id;
    const parked: Array<[number, string]> = [];
    const result = await publishOrPark(
      broker(async (messages) => {
        calls.push(messages.map((m) => (m.payload as { seq: number }).seq));
        const bad = messages.find((m) => m.id === refuse);
        if (bad) throw new MessageRejectedError(bad.id, 'too big');
      }),
      { park: async (position, reason) => (parked.push([position, reason]), true) },
      records,
      () => undefined,
    );
    expect(calls).toEqual([[1, 2, 3], [1, 3]]);
    expect(parked).toEqual([[2, expect.stringMatching(/too big/)]]);
    expect(result.published.map((r) => r.position)).toEqual([1, 3]);
    expect(result.parked.map((r) => r.position)).toEqual([2]);
  });

  it('tells only about rows it moved (a row parked already is not counted twice)', async () => {
    const told: number[] = [];
    await publishOrPark(
      broker(async (messages) => {
        if (messages.length === 3) throw new MessageRejectedError(messages[0]!.id, 'no');
      }),
      { park: async () => false },
      records,
      (r) => told.push(r.position),
    );
    expect(told).toEqual([]);
  });

  it('throws any other failure, and a refusal of a message it did not send', async () => {
    const parkNothing = { park: async () => true };
    await expect(publishOrPark(broker(() => Promise.reject(new Error('broker down'))), parkNothing, records, () => undefined)).rejects.toThrow(
      /broker down/,
    );
    await expect(
      publishOrPark(broker(() => Promise.reject(new MessageRejectedError('other', 'no'))), parkNothing, records, () => undefined),
    ).rejects.toThrow(/other/);
  });
});
