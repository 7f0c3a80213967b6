/**
 * Regression (found by the chaos campaign, PostgreSQL restarted under load): a COMMIT whose
 * connection broke was answered 409 CONFLICT, which tells a client its request conflicted and
 * not to retry. It is a server-side failure with an unknown outcome: 503, retry with the key.
 */
import { ConcordError, ConcordErrorCode, IllegalStateError } from '@concord/core';
import { describe, expect, it } from 'vitest';
import { toHttpError } from './http-error.js';

/** The shape of @concord/postgres' CommitOutcomeUnknownError (a core code plus a reason). */
class CommitOutcomeUnknown extends ConcordError {
  readonly reason = 'COMMIT_OUTCOME_UNKNOWN';
  constructor() {
    super(ConcordErrorCode.ILLEGAL_STATE, 'connection lost during COMMIT; the transaction may have committed');
  }
}

describe('toHttpError for a commit whose outcome is unknown', () => {
  it('answers 503 COMMIT_OUTCOME_UNKNOWN, telling the client to retry with the same key', () => {
    const e = toHttpError(new CommitOutcomeUnknown());
    expect(e.status).toBe(503);
    expect(e.code).toBe('COMMIT_OUTCOME_UNKNOWN');
    expect(e.message).toMatch(/may have committed; retry with the same Idempotency-Key/);
  });

  it('still answers 409 for a real illegal state', () => {
    expect(toHttpError(new IllegalStateError('order 1 is CANCELLED')).status).toBe(409);
  });
});
