import { InvalidArgumentError } from '../errors.js';
import type { SqlDialect, SqlExecutor } from '../sql/sql-driver.js';

export type PoolKind = 'quantity' | 'items';

/** What a pool holds; `available + reserved + confirmed === stock` always. */
export interface PoolCounts {
  readonly pool: string;
  readonly kind: PoolKind;
  readonly stock: number;
  readonly available: number;
  readonly reserved: number;
  readonly confirmed: number;
}

export type ItemState = 'AVAILABLE' | 'RESERVED' | 'CONFIRMED';

export interface PoolItem {
  readonly pool: string;
  readonly itemId: string;
  readonly state: ItemState;
  readonly reservationId: string | null;
}

type Row = Record<string, unknown>;

/** Moves counts between available, reserved and confirmed; every move is one guarded UPDATE. */
export class PoolLedger {
  constructor(private readonly d: SqlDialect) {}

  private get pools() {
    return this.d.table('reservation_pools');
  }
  private get items() {
    return this.d.table('reservation_items');
  }

  async counts(exec: SqlExecutor, pool: string, forUpdate = false): Promise<PoolCounts | undefined> {
    const rows = await exec.query<Row>(
      `SELECT pool, kind, stock, available, reserved, confirmed FROM ${this.pools} WHERE pool = ?${forUpdate ? this.d.forUpdate : ''}`,
      [pool],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      pool: String(r.pool),
      kind: String(r.kind) as PoolKind,
      stock: Number(r.stock),
      available: Number(r.available),
      reserved: Number(r.reserved),
      confirmed: Number(r.confirmed),
    };
  }

  async ensurePool(exec: SqlExecutor, pool: string, kind: PoolKind, now: number): Promise<PoolCounts> {
    await exec.execute(this.d.insertIgnore(this.pools, ['pool', 'kind', 'stock', 'available', 'reserved', 'confirmed', 'updated_at']), [
      pool,
      kind,
      0,
      0,
      0,
      0,
      now,
    ]);
    const counts = (await this.counts(exec, pool))!;
    if (counts.kind !== kind) throw new InvalidArgumentError(`pool ${pool} holds ${counts.kind}, not ${kind}`);
    return counts;
  }

  async addStock(exec: SqlExecutor, pool: string, quantity: number, now: number): Promise<void> {
    await exec.execute(`UPDATE ${this.pools} SET stock = stock + ?, available = available + ?, updated_at = ? WHERE pool = ?`, [
      quantity,
      quantity,
      now,
      pool,
    ]);
  }

  async addItems(exec: SqlExecutor, pool: string, itemIds: readonly string[], now: number): Promise<number> {
    let added = 0;
    for (const itemId of itemIds) {
      added += await exec.execute(this.d.insertIgnore(this.items, ['pool', 'item_id', 'state', 'reservation_id']), [
        pool,
        itemId,
        'AVAILABLE',
        null,
      ]);
    }
    if (added > 0) await this.addStock(exec, pool, added, now);
    return added;
  }

  /** `available -> reserved` if enough is available; false otherwise (nothing changed). */
  async take(exec: SqlExecutor, pool: string, quantity: number, now: number): Promise<boolean> {
    const changed = await exec.execute(
      `UPDATE ${this.pools} SET available = available - ?, reserved = reserved + ?, updated_at = ? WHERE pool = ? AND available >= ?`,
      [quantity, quantity, now, pool, quantity],
    );
    return changed === 1;
  }

  /** Moves `quantity` from one count to another (reserved -> confirmed, reserved -> available...). */
  async move(exec: SqlExecutor, pool: string, quantity: number, from: 'reserved' | 'confirmed', to: 'available' | 'confirmed', now: number) {
    await exec.execute(`UPDATE ${this.pools} SET ${from} = ${from} - ?, ${to} = ${to} + ?, updated_at = ? WHERE pool = ?`, [
      quantity,
      quantity,
      now,
      pool,
    ]);
  }

  /**
   * Marks one free item RESERVED for `reservationId`: the given one, or (itemId undefined) the
   * first free one. Returns the item's id, or undefined when none is free.
   */
  async takeItem(exec: SqlExecutor, pool: string, itemId: string | undefined, reservationId: string): Promise<string | undefined> {
    for (let round = 0; round < 5; round++) {
      let candidate = itemId;
      if (candidate === undefined) {
        const lock = this.d.capabilities.supportsSkipLocked ? `${this.d.forUpdate} SKIP LOCKED` : '';
        const rows = await exec.query<{ item_id: string }>(
          `SELECT item_id FROM ${this.items} WHERE pool = ? AND state = ? ORDER BY item_id LIMIT 1${lock}`,
          [pool, 'AVAILABLE'],
        );
        candidate = rows[0]?.item_id;
        if (candidate === undefined) return undefined;
      }
      const changed = await exec.execute(
        `UPDATE ${this.items} SET state = ?, reservation_id = ? WHERE pool = ? AND item_id = ? AND state = ?`,
        ['RESERVED', reservationId, pool, candidate, 'AVAILABLE'],
      );
      if (changed === 1) return candidate;
      // Taken between our read and our update (a server without SKIP LOCKED): look again.
      if (itemId !== undefined) return undefined;
    }
    return undefined;
  }

  async setItem(exec: SqlExecutor, pool: string, itemId: string, state: ItemState, reservationId: string | null): Promise<void> {
    await exec.execute(`UPDATE ${this.items} SET state = ?, reservation_id = ? WHERE pool = ? AND item_id = ?`, [
      state,
      reservationId,
      pool,
      itemId,
    ]);
  }

  async item(exec: SqlExecutor, pool: string, itemId: string): Promise<PoolItem | undefined> {
    const rows = await exec.query<Row>(`SELECT pool, item_id, state, reservation_id FROM ${this.items} WHERE pool = ? AND item_id = ?`, [
      pool,
      itemId,
    ]);
    const r = rows[0];
    if (!r) return undefined;
    return { pool: String(r.pool), itemId: String(r.item_id), state: String(r.state) as ItemState, reservationId: (r.reservation_id ?? null) as string | null };
  }
}
