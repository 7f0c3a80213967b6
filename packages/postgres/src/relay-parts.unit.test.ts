import { describe, expect, it } from 'vitest';
import { formatLsn, parseLsn } from './lsn.js';
import { postgresDialect } from './postgres-dialect.js';
import { isConnectionError, isRetryableTransactionError } from './postgres-errors.js';

describe('relay building blocks', () => {
  it('LSNs round-trip and compare as numbers', () => {
    expect(formatLsn(parseLsn('16/B374D848'))).toBe('16/B374D848');
    expect(parseLsn('1/0') > parseLsn('0/FFFFFFFF')).toBe(true);
    expect(parseLsn('0/10') - 1n).toBe(15n);
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
