import { IllegalStateError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Transaction } from '../ports/store.js';
import type { SqlDialect, SqlExecutor } from '../sql/sql-driver.js';
import type { SqlStore, SqlStoreTransaction } from '../sql/sql-store.js';
import type { DurableTimers } from '../timers/durable-timers.js';
import { PoolLedger, type PoolCounts, type PoolItem } from './pool-ledger.js';
import { ReservationCancelledError, ReservationExpiredError, ReservationUnavailableError } from './reservation-errors.js';

export const ReservationState = {
  /** Held until confirmed, cancelled or expired. */
  RESERVED: 'RESERVED',
  CONFIRMED: 'CONFIRMED',
  CANCELLED: 'CANCELLED',
  EXPIRED: 'EXPIRED',
  /** Confirmed, then given back (an order cancelled after it was placed). */
  RELEASED: 'RELEASED',
} as const;
export type ReservationState = (typeof ReservationState)[keyof typeof ReservationState];

export interface Reservation {
  readonly reservationId: string;
  /** null only for a cancel that came before its try (a tombstone). */
  readonly pool: string | null;
  readonly itemId: string | null;
  readonly quantity: number;
  readonly state: ReservationState;
  /** The caller's reference (an order id), shown with the item it holds. */
  readonly ref: string | null;
  readonly expiresAt: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type TryReservation = {
  /** Caller-assigned, so a retried try finds its first attempt (e.g. `order-42:packet`). */
  readonly reservationId: string;
  readonly pool: string;
  /** Time to live: unconfirmed past it, the reservation expires and returns to the pool. */
  readonly ttlMs: number;
  readonly ref?: string;
} & ({ readonly quantity: number } | { readonly item: string } | { readonly anyItem: true });

type Row = Record<string, unknown>;
const EXPIRY_KIND = 'concord.reservation.expire';
const COLUMNS = 'reservation_id, pool, item_id, quantity, state, ref, expires_at, created_at, updated_at';

function fromRow(r: Row): Reservation {
  return {
    reservationId: String(r.reservation_id),
    pool: (r.pool ?? null) as string | null,
    itemId: (r.item_id ?? null) as string | null,
    quantity: Number(r.quantity),
    state: String(r.state) as ReservationState,
    ref: (r.ref ?? null) as string | null,
    expiresAt: r.expires_at == null ? null : Number(r.expires_at),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export interface ReservationsOptions<H> {
  /** The store's timer runtime: expiries are its timers (kind `concord.reservation.expire`). */
  readonly timers: DurableTimers<H>;
  readonly store: SqlStore<H>;
  readonly clock?: Clock;
}

/**
 * TCC reservations in the service's own database: `try` holds a quantity of a pool or an item
 * for a TTL, `confirm` makes it final, `cancel` gives it back; all three take the caller's
 * transaction (a participant's handler, an HTTP handler) and are idempotent by the caller's
 * reservation id. Expiry is a durable timer scheduled with the try. A cancel that arrives
 * before its try leaves a tombstone that refuses the try (hanging protection).
 */
export class Reservations<H = unknown> {
  private readonly ledger: PoolLedger;
  private readonly dialect: SqlDialect;
  private readonly clock: Clock;
  private readonly expiredListeners = new Set<(tx: SqlStoreTransaction<H>, r: Reservation) => Promise<void> | void>();

  constructor(private readonly options: ReservationsOptions<H>) {
    this.dialect = options.store.driver.dialect;
    this.ledger = new PoolLedger(this.dialect);
    this.clock = options.clock ?? systemClock;
    options.timers.handle<{ reservationId: string }>(EXPIRY_KIND, (tx, timer) => this.expire(tx, timer.payload.reservationId));
  }

  private get table() {
    return this.dialect.table('reservations');
  }

  /** Adds `quantity` to a quantity pool, creating it when missing. */
  async addStock(tx: Transaction<unknown>, pool: string, quantity: number): Promise<PoolCounts> {
    if (!Number.isSafeInteger(quantity) || quantity < 0) throw new InvalidArgumentError(`quantity must be a whole number >= 0, got ${quantity}`);
    const now = this.clock.now();
    await this.ledger.ensurePool(tx.sql, pool, 'quantity', now);
    await this.ledger.addStock(tx.sql, pool, quantity, now);
    return (await this.ledger.counts(tx.sql, pool))!;
  }

  /** Adds items to an item pool (ids already there are kept as they are). */
  async addItems(tx: Transaction<unknown>, pool: string, itemIds: readonly string[]): Promise<PoolCounts> {
    const now = this.clock.now();
    await this.ledger.ensurePool(tx.sql, pool, 'items', now);
    await this.ledger.addItems(tx.sql, pool, itemIds, now);
    return (await this.ledger.counts(tx.sql, pool))!;
  }

  pool(exec: SqlExecutor, pool: string): Promise<PoolCounts | undefined> {
    return this.ledger.counts(exec, pool);
  }

  item(exec: SqlExecutor, pool: string, itemId: string): Promise<PoolItem | undefined> {
    return this.ledger.item(exec, pool, itemId);
  }

  async get(exec: SqlExecutor, reservationId: string, forUpdate = false): Promise<Reservation | undefined> {
    const rows = await exec.query<Row>(
      `SELECT ${COLUMNS} FROM ${this.table} WHERE reservation_id = ?${forUpdate ? this.dialect.forUpdate : ''}`,
      [reservationId],
    );
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /** Reservations still RESERVED whose TTL has passed (their expiry timers are due or firing). */
  async overdue(exec: SqlExecutor): Promise<Reservation[]> {
    const rows = await exec.query<Row>(`SELECT ${COLUMNS} FROM ${this.table} WHERE state = ? AND expires_at <= ?`, [
      ReservationState.RESERVED,
      this.clock.now(),
    ]);
    return rows.map(fromRow);
  }

  /**
   * Try: holds what `request` asks for until confirm, cancel or the TTL. A second try with the
   * same id returns the first one's reservation. Throws ReservationUnavailableError when the
   * pool cannot give it (nothing held), ReservationCancelledError when a cancel came first.
   */
  async try(tx: Transaction<unknown>, request: TryReservation): Promise<Reservation> {
    const { reservationId, pool, ttlMs } = request;
    if (!reservationId) throw new InvalidArgumentError('reservationId must not be empty');
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new InvalidArgumentError(`ttlMs must be > 0, got ${ttlMs}`);
    const quantity = 'quantity' in request ? request.quantity : 1;
    if (!Number.isSafeInteger(quantity) || quantity <= 0) throw new InvalidArgumentError(`quantity must be a whole number > 0, got ${quantity}`);
    const exec = tx.sql;
    const now = this.clock.now();
    const expiresAt = now + ttlMs;
    // Claim the id first, as the participant barrier does: a concurrent cancel or duplicate
    // try of the same id waits for us, then finds our row.
    const claimed = await exec.execute(
      this.dialect.insertIgnore(this.table, ['reservation_id', 'pool', 'item_id', 'quantity', 'state', 'ref', 'expires_at', 'created_at', 'updated_at']),
      [reservationId, pool, null, quantity, ReservationState.RESERVED, request.ref ?? null, expiresAt, now, now],
    );
    if (claimed !== 1) {
      const existing = (await this.get(exec, reservationId))!;
      if (existing.state === ReservationState.CANCELLED) throw new ReservationCancelledError(reservationId, existing.pool === null);
      if (existing.state === ReservationState.EXPIRED) throw new ReservationExpiredError(reservationId, existing.expiresAt ?? existing.updatedAt);
      return existing;
    }
    const counts = await this.ledger.counts(exec, pool);
    const timerId = `reservation:${reservationId}`;
    let itemId: string | null = null;
    let refusal: string | undefined;
    if (!counts) refusal = 'no such pool';
    else if ('quantity' in request ? counts.kind !== 'quantity' : counts.kind !== 'items') {
      refusal = counts.kind === 'items' ? 'is an item pool: reserve an item' : 'is a quantity pool: reserve a quantity';
    } else if (!('quantity' in request)) {
      itemId = (await this.ledger.takeItem(exec, pool, 'item' in request ? request.item : undefined, reservationId)) ?? null;
      if (itemId === null) refusal = 'item' in request ? `item ${request.item} is not free` : 'no free item';
      else await exec.execute(`UPDATE ${this.table} SET item_id = ? WHERE reservation_id = ?`, [itemId, reservationId]);
    }
    if (!refusal) {
      await this.options.timers.schedule(tx, { id: timerId, kind: EXPIRY_KIND, at: expiresAt, payload: { reservationId } });
      // The pool's counts row is every try's hot row: update it last, so its lock is held
      // only until the commit.
      if (!(await this.ledger.take(exec, pool, quantity, now))) {
        refusal = `${quantity} asked, fewer available`;
        await this.options.timers.unschedule(tx, timerId);
        if (itemId !== null) await this.ledger.setItem(exec, pool, itemId, 'AVAILABLE', null);
      }
    }
    if (refusal) {
      // Nothing held: forget the id, so a later try (stock may come back) starts afresh.
      await exec.execute(`DELETE FROM ${this.table} WHERE reservation_id = ?`, [reservationId]);
      throw new ReservationUnavailableError(pool, refusal);
    }
    return { reservationId, pool, itemId, quantity, state: ReservationState.RESERVED, ref: request.ref ?? null, expiresAt, createdAt: now, updatedAt: now };
  }

  /**
   * Confirm: makes a RESERVED reservation final. Idempotent (a CONFIRMED one is returned as
   * is). Refused past the TTL with ReservationExpiredError, and after a cancel.
   */
  async confirm(tx: Transaction<unknown>, reservationId: string): Promise<Reservation> {
    const exec = tx.sql;
    const r = await this.get(exec, reservationId, true);
    if (!r) throw new NotFoundError('reservation', reservationId);
    switch (r.state) {
      case ReservationState.CONFIRMED:
        return r;
      case ReservationState.EXPIRED:
        throw new ReservationExpiredError(reservationId, r.expiresAt ?? r.updatedAt);
      case ReservationState.CANCELLED:
        throw new ReservationCancelledError(reservationId, r.pool === null);
      case ReservationState.RELEASED:
        throw new IllegalStateError(`reservation ${reservationId} was confirmed and then released`);
    }
    const now = this.clock.now();
    // Late by the clock but not yet expired by its timer: refuse all the same, so a confirm
    // never depends on how promptly the timer fires. The timer gives it back.
    if (r.expiresAt !== null && r.expiresAt <= now) throw new ReservationExpiredError(reservationId, r.expiresAt);
    if (r.itemId !== null) await this.ledger.setItem(exec, r.pool!, r.itemId, 'CONFIRMED', reservationId);
    await this.setState(exec, reservationId, ReservationState.CONFIRMED, now);
    await this.options.timers.cancel(tx, `reservation:${reservationId}`);
    // The hot counts row last (see try).
    await this.ledger.move(exec, r.pool!, r.quantity, 'reserved', 'confirmed', now);
    return { ...r, state: ReservationState.CONFIRMED, updatedAt: now };
  }

  /**
   * Cancel: gives a RESERVED reservation back. Idempotent. A cancel for an id never tried
   * records a tombstone, so the try, should it come later, is refused. A CONFIRMED
   * reservation is not cancelled (use `release`).
   */
  async cancel(tx: Transaction<unknown>, reservationId: string): Promise<Reservation> {
    return this.giveBack(tx, reservationId, false);
  }

  /** Like cancel, and also gives back a CONFIRMED reservation (RELEASED): what a compensation wants. */
  async release(tx: Transaction<unknown>, reservationId: string): Promise<Reservation> {
    return this.giveBack(tx, reservationId, true);
  }

  /** Called in the transaction that expires a reservation, to update the service's own rows. */
  onExpired(listener: (tx: SqlStoreTransaction<H>, reservation: Reservation) => Promise<void> | void): () => void {
    this.expiredListeners.add(listener);
    return () => this.expiredListeners.delete(listener);
  }

  private async giveBack(tx: Transaction<unknown>, reservationId: string, confirmedToo: boolean): Promise<Reservation> {
    const exec = tx.sql;
    const now = this.clock.now();
    const tombstone = await exec.execute(
      this.dialect.insertIgnore(this.table, ['reservation_id', 'pool', 'item_id', 'quantity', 'state', 'ref', 'expires_at', 'created_at', 'updated_at']),
      [reservationId, null, null, 0, ReservationState.CANCELLED, null, null, now, now],
    );
    if (tombstone === 1) return (await this.get(exec, reservationId))!;
    const r = (await this.get(exec, reservationId, true))!;
    if (r.state === ReservationState.CONFIRMED) {
      if (!confirmedToo) throw new IllegalStateError(`reservation ${reservationId} is confirmed: release it instead`);
      await this.ledger.move(exec, r.pool!, r.quantity, 'confirmed', 'available', now);
      if (r.itemId !== null) await this.ledger.setItem(exec, r.pool!, r.itemId, 'AVAILABLE', null);
      await this.setState(exec, reservationId, ReservationState.RELEASED, now);
      return { ...r, state: ReservationState.RELEASED, updatedAt: now };
    }
    if (r.state !== ReservationState.RESERVED) return r;
    await this.returnReserved(exec, r, now);
    await this.setState(exec, reservationId, ReservationState.CANCELLED, now);
    await this.options.timers.cancel(tx, `reservation:${reservationId}`);
    return { ...r, state: ReservationState.CANCELLED, updatedAt: now };
  }

  /** The expiry timer's handler: a reservation still RESERVED goes back to its pool. */
  private async expire(tx: SqlStoreTransaction<H>, reservationId: string): Promise<void> {
    const r = await this.get(tx.exec, reservationId, true);
    if (!r || r.state !== ReservationState.RESERVED) return;
    const now = this.clock.now();
    await this.returnReserved(tx.exec, r, now);
    await this.setState(tx.exec, reservationId, ReservationState.EXPIRED, now);
    const expired = { ...r, state: ReservationState.EXPIRED, updatedAt: now };
    for (const listener of this.expiredListeners) await listener(tx, expired);
  }

  private async returnReserved(exec: SqlExecutor, r: Reservation, now: number): Promise<void> {
    await this.ledger.move(exec, r.pool!, r.quantity, 'reserved', 'available', now);
    if (r.itemId !== null) await this.ledger.setItem(exec, r.pool!, r.itemId, 'AVAILABLE', null);
  }

  private async setState(exec: SqlExecutor, reservationId: string, state: ReservationState, now: number): Promise<void> {
    await exec.execute(`UPDATE ${this.table} SET state = ?, updated_at = ? WHERE reservation_id = ?`, [state, now, reservationId]);
  }
}
