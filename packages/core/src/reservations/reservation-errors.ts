import { ConcordError, ConcordErrorCode } from '../errors.js';

/** A confirm came after the reservation's TTL: what it held went back to the pool (or will). */
export class ReservationExpiredError extends ConcordError {
  constructor(readonly reservationId: string, readonly expiredAt: number) {
    super(ConcordErrorCode.RESERVATION_EXPIRED, `reservation ${reservationId} expired at ${new Date(expiredAt).toISOString()}; confirm refused`);
    this.name = 'ReservationExpiredError';
  }
}

/** The reservation was cancelled; a try whose cancel came first is blocked for good (hanging). */
export class ReservationCancelledError extends ConcordError {
  constructor(readonly reservationId: string, readonly cancelledBeforeTry: boolean) {
    super(
      ConcordErrorCode.RESERVATION_CANCELLED,
      cancelledBeforeTry
        ? `reservation ${reservationId} was cancelled before its try arrived; the try is refused`
        : `reservation ${reservationId} was cancelled`,
    );
    this.name = 'ReservationCancelledError';
  }
}

/** The pool cannot give what the try asked for. Nothing was reserved. */
export class ReservationUnavailableError extends ConcordError {
  constructor(readonly pool: string, what: string) {
    super(ConcordErrorCode.RESERVATION_UNAVAILABLE, `pool ${pool}: ${what}`);
    this.name = 'ReservationUnavailableError';
  }
}
