import { describe, expect, it } from 'vitest';
import { partitionFor } from '../message/partition.js';
import type { OutboxRecord } from '../ports/store.js';
import { OUTBOX_SHARDS } from '../sql/store-schema.js';
import { testEnvelope } from '../testing/broker-conformance.js';
import { lanesByShard } from './outbox-lanes.js';

function records(n: number, keys: number): OutboxRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const envelope = testEnvelope('c', `key-${i % keys}`, Math.floor(i / keys));
    return { position: i + 1, shard: partitionFor(envelope.partitionKey, OUTBOX_SHARDS), envelope };
  });
}

describe('relay lanes', () => {
  it('keeps a small batch in one lane', () => {
    expect(lanesByShard(records(100, 16), 4)).toHaveLength(1);
    expect(lanesByShard([], 4)).toEqual([]);
  });

  it('splits a big batch by shard into lanes that keep each key in order, in one lane', () => {
    const lanes = lanesByShard(records(4000, 64), 4);
    expect(lanes).toHaveLength(4);
    expect(lanes.flat()).toHaveLength(4000);
    const laneOfKey = new Map<string, number>();
    lanes.forEach((lane, i) => {
      const last = new Map<string, number>();
      for (const r of lane) {
        const key = r.envelope.partitionKey;
        expect(laneOfKey.get(key) ?? i).toBe(i);
        laneOfKey.set(key, i);
        expect(r.position).toBeGreaterThan(last.get(key) ?? 0);
        last.set(key, r.position);
      }
    });
  });
});
