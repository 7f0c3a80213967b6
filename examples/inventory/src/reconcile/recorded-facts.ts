import { purchaseMessageId, restockMessageId } from '../contracts.js';
import type { PurchaseState } from '../purchase-service/purchase-repository.js';
import { num, selectRows, type Conn } from '../purchase-service/sql.js';

/** Everything MySQL records about one product's stock, by the message id Redis uses for it. */
export interface ProductFacts {
  readonly productId: number;
  readonly restocks: Map<string, { quantity: number; applied: boolean }>;
  readonly purchases: Map<string, { quantity: number; state: PurchaseState }>;
  readonly adjustments: Map<string, number>;
}

/** Reads the facts of the given products (all products when none given), in the caller's transaction. */
export async function loadFacts(conn: Conn, productIds?: readonly number[]): Promise<Map<number, ProductFacts>> {
  const inList = (column: string) =>
    productIds === undefined ? '' : productIds.length === 0 ? 'WHERE 1 = 0' : `WHERE ${column} IN (${productIds.map(() => '?').join(',')})`;
  const params = productIds ? [...productIds] : [];
  const facts = new Map<number, ProductFacts>();
  for (const p of await selectRows<{ id: number }>(conn, `SELECT id FROM inventory_products ${inList('id')}`, params)) {
    facts.set(num(p.id), { productId: num(p.id), restocks: new Map(), purchases: new Map(), adjustments: new Map() });
  }
  const restocks = await selectRows<{ id: number; product_id: number; quantity: number; applied_at: number | null }>(
    conn,
    `SELECT id, product_id, quantity, applied_at FROM inventory_restocks ${inList('product_id')}`,
    params,
  );
  for (const r of restocks) {
    facts.get(num(r.product_id))?.restocks.set(restockMessageId(num(r.id)), { quantity: num(r.quantity), applied: r.applied_at !== null });
  }
  const purchases = await selectRows<{ id: number; product_id: number; quantity: number; state: PurchaseState }>(
    conn,
    `SELECT id, product_id, quantity, state FROM inventory_purchases ${inList('product_id')}`,
    params,
  );
  for (const p of purchases) {
    facts.get(num(p.product_id))?.purchases.set(purchaseMessageId(num(p.id)), { quantity: num(p.quantity), state: p.state });
  }
  const adjustments = await selectRows<{ message_id: string; product_id: number; delta: number }>(
    conn,
    `SELECT message_id, product_id, delta FROM inventory_stock_adjustments ${inList('product_id')}`,
    params,
  );
  for (const a of adjustments) facts.get(num(a.product_id))?.adjustments.set(a.message_id, num(a.delta));
  return facts;
}
