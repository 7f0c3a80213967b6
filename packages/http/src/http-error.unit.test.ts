import {
  BoundExceededError,
  ConcordError,
  ConcordErrorCode,
  ReservationCancelledError,
  ReservationExpiredError,
  ReservationUnavailableError,
  ResourceLockedError,
  SagaVersionNotRegisteredError,
  StaleVersionError,
} from '@concord/core';
import { describe, expect, it } from 'vitest';
import { toHttpError } from './http-error.js';

describe('toHttpError and the isolation countermeasures', () => {
  it('answers 409 with the stable code for a semantic lock held by another saga, a stale version, a bound', () => {
    expect(toHttpError(new ResourceLockedError('order:7', 'saga-1'))).toMatchObject({
      status: 409,
      code: 'RESOURCE_LOCKED',
      message: 'order:7 is locked by saga saga-1',
    });
    expect(toHttpError(new StaleVersionError(7, 2, 3))).toMatchObject({ status: 409, code: 'STALE_VERSION' });
    expect(toHttpError(new BoundExceededError(7, -50))).toMatchObject({
      status: 409,
      code: 'BOUND_EXCEEDED',
    });
  });
});

describe('toHttpError and saga definition versions', () => {
  it('answers 409 SAGA_VERSION_NOT_REGISTERED for an action on a saga whose version is not registered here', () => {
    const error = new SagaVersionNotRegisteredError('shop', [
      { sagaType: 'Order', version: '1', count: 1, sagaIds: ['s1'] },
    ]);
    expect(toHttpError(error)).toMatchObject({ status: 409, code: 'SAGA_VERSION_NOT_REGISTERED' });
  });
});

describe('toHttpError and servers that cannot be reached', () => {
  it('answers 503 with the stable code when a broker or database is unavailable or timed out, never 500', () => {
    const unavailable = new ConcordError(
      ConcordErrorCode.UNAVAILABLE,
      'redis XADD failed: connection refused',
    );
    expect(toHttpError(unavailable)).toMatchObject({
      status: 503,
      code: 'UNAVAILABLE',
      message: 'redis XADD failed: connection refused; retry later',
    });
    const timeout = new ConcordError(
      ConcordErrorCode.TIMEOUT,
      'no PostgreSQL connection after 5000 ms: ECONNREFUSED',
    );
    expect(toHttpError(timeout)).toMatchObject({ status: 503, code: 'TIMEOUT' });
  });
});

describe('toHttpError and reservations', () => {
  it('answers 409 with the stable code for a reservation that expired, was cancelled, or cannot be held', () => {
    expect(toHttpError(new ReservationExpiredError('r1', Date.UTC(2026, 0, 1)))).toMatchObject({ status: 409, code: 'RESERVATION_EXPIRED' });
    expect(toHttpError(new ReservationCancelledError('r1', true))).toMatchObject({ status: 409, code: 'RESERVATION_CANCELLED' });
    expect(toHttpError(new ReservationUnavailableError('stock', 'only 2 left'))).toMatchObject({
      status: 409,
      code: 'RESERVATION_UNAVAILABLE',
      message: 'pool stock: only 2 left',
    });
  });
});
