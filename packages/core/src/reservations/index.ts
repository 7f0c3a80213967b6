export { Reservations, ReservationState, type Reservation, type ReservationsOptions, type TryReservation } from './reservations.js';
export { PoolLedger, type ItemState, type PoolCounts, type PoolItem, type PoolKind } from './pool-ledger.js';
export { ReservationCancelledError, ReservationExpiredError, ReservationUnavailableError } from './reservation-errors.js';
