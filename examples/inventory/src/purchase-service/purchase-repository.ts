import { execute, num, selectRows, type Conn } from './sql.js';

export type PurchaseState = 'PENDING' | 'CONFIRMED' | 'REJECTED';
export type RejectionReason = 'OUT_OF_STOCK' | 'UNKNOWN_PRODUCT';

export interface Product {
  readonly productId: number;
  readonly name: string;
}

export interface Purchase {
  readonly purchaseId: number;
  readonly productId: number;
  readonly quantity: number;
  readonly state: PurchaseState;
  readonly rejectionReason: RejectionReason | null;
}

interface PurchaseRow {
  id: number;
  product_id: number;
  quantity: number;
  state: PurchaseState;
  rejection_reason: RejectionReason | null;
  request_fingerprint: string | null;
}

const toPurchase = (r: PurchaseRow): Purchase => ({
  purchaseId: num(r.id),
  productId: num(r.product_id),
  quantity: num(r.quantity),
  state: r.state,
  rejectionReason: r.rejection_reason,
});

/** The Purchase service's SQL, on the transaction's own mysql2 connection. */
export const purchaseRepository = {
  async insertProduct(conn: Conn, name: string, now: number): Promise<number> {
    return (await execute(conn, 'INSERT INTO inventory_products (name, created_at) VALUES (?, ?)', [name, now])).insertId;
  },

  async findProduct(conn: Conn, productId: number): Promise<Product | undefined> {
    const [row] = await selectRows<{ id: number; name: string }>(conn, 'SELECT id, name FROM inventory_products WHERE id = ?', [productId]);
    return row ? { productId: num(row.id), name: row.name } : undefined;
  },

  async insertRestock(conn: Conn, productId: number, quantity: number, now: number, idempotencyKey: string | null = null): Promise<number> {
    const sql = 'INSERT INTO inventory_restocks (product_id, quantity, idempotency_key, request_fingerprint, created_at) VALUES (?, ?, ?, ?, ?)';
    return (await execute(conn, sql, [productId, quantity, idempotencyKey, `${productId}:${quantity}`, now])).insertId;
  },

  async findRestockByIdempotencyKey(conn: Conn, key: string): Promise<{ restockId: number; fingerprint: string | null } | undefined> {
    const [row] = await selectRows<{ id: number; request_fingerprint: string | null }>(
      conn,
      'SELECT id, request_fingerprint FROM inventory_restocks WHERE idempotency_key = ?',
      [key],
    );
    return row ? { restockId: num(row.id), fingerprint: row.request_fingerprint } : undefined;
  },

  async markRestockApplied(conn: Conn, restockId: number, now: number): Promise<void> {
    await execute(conn, 'UPDATE inventory_restocks SET applied_at = ? WHERE id = ? AND applied_at IS NULL', [now, restockId]);
  },

  async insertPurchase(
    conn: Conn,
    p: { productId: number; quantity: number; state: PurchaseState; rejectionReason: RejectionReason | null; idempotencyKey: string | null; fingerprint: string },
    now: number,
  ): Promise<number> {
    const sql =
      'INSERT INTO inventory_purchases (product_id, quantity, state, rejection_reason, idempotency_key, request_fingerprint, created_at, updated_at) ' +
      'VALUES (?, ?, ?, ?, ?, ?, ?, ?)';
    return (await execute(conn, sql, [p.productId, p.quantity, p.state, p.rejectionReason, p.idempotencyKey, p.fingerprint, now, now])).insertId;
  },

  async findPurchase(conn: Conn, purchaseId: number): Promise<Purchase | undefined> {
    const [row] = await selectRows<PurchaseRow>(conn, 'SELECT * FROM inventory_purchases WHERE id = ?', [purchaseId]);
    return row ? toPurchase(row) : undefined;
  },

  async findByIdempotencyKey(conn: Conn, key: string): Promise<(Purchase & { fingerprint: string | null }) | undefined> {
    const [row] = await selectRows<PurchaseRow>(conn, 'SELECT * FROM inventory_purchases WHERE idempotency_key = ?', [key]);
    return row ? { ...toPurchase(row), fingerprint: row.request_fingerprint } : undefined;
  },

  /** Records the Stock service's answer once: a purchase that is no longer PENDING is left alone. */
  async recordOutcome(conn: Conn, purchaseId: number, state: 'CONFIRMED' | 'REJECTED', reason: RejectionReason | null, generation: number, now: number): Promise<boolean> {
    const sql =
      'UPDATE inventory_purchases SET state = ?, rejection_reason = ?, stock_generation = ?, updated_at = ? WHERE id = ? AND state = ?';
    return (await execute(conn, sql, [state, reason, generation, now, purchaseId, 'PENDING'])).affectedRows === 1;
  },

  async sold(conn: Conn, productId: number): Promise<number> {
    const [row] = await selectRows<{ sold: unknown }>(
      conn,
      "SELECT COALESCE(SUM(quantity), 0) AS sold FROM inventory_purchases WHERE product_id = ? AND state = 'CONFIRMED'",
      [productId],
    );
    return num(row?.sold);
  },

  /** The Redis generation MySQL expects; `share` locks the row until commit (see StockRecord). */
  async stockGeneration(conn: Conn, lock: 'share' | 'none' = 'none'): Promise<number> {
    const sql = `SELECT generation FROM inventory_stock_generation WHERE id = 1${lock === 'share' ? ' LOCK IN SHARE MODE' : ''}`;
    const [row] = await selectRows<{ generation: unknown }>(conn, sql);
    return num(row?.generation);
  },

  async bumpStockGeneration(conn: Conn): Promise<number> {
    await execute(conn, 'UPDATE inventory_stock_generation SET generation = generation + 1 WHERE id = 1');
    return this.stockGeneration(conn);
  },
};
