import { DurableTimers, Reservations, type Logger, type SqlStore } from '@concord/core';

/** A service's durable timers and the reservations whose expiries they fire. */
export interface ReservationRuntime {
  readonly timers: DurableTimers;
  readonly reservations: Reservations;
}

/**
 * Commands that reserve are handled one per transaction (`maxBatchSize: 1` on the participant)
 * and expiries fire in one transaction at a time: each touches a pool's counts row, and two
 * transactions each holding one pool's row while waiting for another's would deadlock.
 */
export function reservationRuntime(store: SqlStore, logger: Logger, pollIntervalMs = 100): ReservationRuntime {
  const timers = new DurableTimers({ store, logger, pollIntervalMs, concurrency: 1 });
  return { timers, reservations: new Reservations({ store, timers }) };
}

/** Maps a reservation error to the participant's reply: expired or cancelled both mean "lost". */
export function isReservationLost(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'RESERVATION_EXPIRED' || code === 'RESERVATION_CANCELLED';
}
