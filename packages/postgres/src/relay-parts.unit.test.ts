import { describe, expect, it } from 'vitest';
import { OUTBOX_SHARDS, partitionFor, type OutboxRecord } from '@concord/core/spi';
import { testEnvelope } from '@concord/core/testing';
import { formatLsn, parseLsn } from './lsn.js';
import { lanesByShard } from '@concord/core/spi';
import { postgresDialect } from './postgres-dialect.js';
import { isConnectionError, isRetryableTransactionError } from './postgres-errors.js';

function records(n: number, keys: number): OutboxRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const envelope = testEnvelope('c', `key-${i % keys}`, Math.floor(i / keys));
    return { position: i + 1, shard: partitionFor(envelope.partitionKey, OUTBOX_SHARDS), envelope };
  });
}

describe('relay building blocks', () => {
  it('LSNs round-trip and compare as numbers', () => {
    expect(formatLsn(parseLsn('16/B374D848'))).toBe('16/B374D848');
    expect(parseLsn('1/0') > parseLsn('0/FFFFFFFF')).toBe(true);
    expect(parseLsn('0/10') - 1n).toBe(15n);
  });

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

  it('qualifies tables by schema and refuses schema names that need quoting', () => {
    const d = postgresDialect('billing');
    expect(d.table('outbox')).toBe('billing.outbox');
    expect(d.insertIgnore('t', ['a', 'b'], 2)).toBe('INSERT INTO t (a, b) VALUES (?, ?), (?, ?) ON CONFLICT DO NOTHING');
    expect(() => postgresDialect('bad-name')).toThrow(/schema/);
    expect(() => postgresDialect('x; DROP TABLE y')).toThrow(/schema/);
  });

  it('classifies errors: retry the transaction, or the connection', () => {
    expect(isRetryableTransactionError({ code: '40001' })).toBe(true);
    expect(isRetryableTransactionError(new Error('x', { cause: { code: '40P01' } }))).toBe(true);
    expect(isRetryableTransactionError({ code: '23505' })).toBe(false);
    expect(isConnectionError({ code: '57P01' })).toBe(true);
    expect(isConnectionError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isConnectionError({ code: '42P01' })).toBe(false);
  });
});
