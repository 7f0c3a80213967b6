import { purchaseMessageId, restockMessageId } from '../contracts.js';
import type { RecordedStock, StockRecord } from '../stock-service/stock-guardian.js';
import { purchaseRepository as repo } from './purchase-repository.js';
import { num, selectRows, type Conn } from './sql.js';
import type { InventoryStore } from './store.js';

/** What Redis must hold, computed from MySQL: every unit stocked, minus every unit sold. */
export async function recordedStock(conn: Conn, productIds?: readonly number[]): Promise<RecordedStock[]> {
  const filter = productIds ? (productIds.length ? `WHERE product_id IN (${productIds.map(() => '?').join(',')})` : 'WHERE 1 = 0') : '';
  const params = productIds ? [...productIds] : [];
  const byProduct = new Map<number, { stock: number; ledger: Array<readonly [string, string]> }>();
  const products = await selectRows<{ id: number }>(conn, `SELECT id FROM inventory_products ${filter.replace('product_id', 'id')}`, params);
  for (const p of products) byProduct.set(num(p.id), { stock: 0, ledger: [] });
  const add = (productId: number, id: string, delta: number, value = String(delta)) => {
    const entry = byProduct.get(productId);
    if (!entry) return;
    entry.stock += delta;
    entry.ledger.push([id, value]);
  };
  for (const r of await selectRows<{ id: number; product_id: number; quantity: number }>(
    conn,
    `SELECT id, product_id, quantity FROM inventory_restocks ${filter}`,
    params,
  )) {
    add(num(r.product_id), restockMessageId(num(r.id)), num(r.quantity));
  }
  for (const a of await selectRows<{ message_id: string; product_id: number; delta: number }>(
    conn,
    `SELECT message_id, product_id, delta FROM inventory_stock_adjustments ${filter}`,
    params,
  )) {
    add(num(a.product_id), a.message_id, num(a.delta));
  }
  const confirmed = `SELECT id, product_id, quantity FROM inventory_purchases ${filter ? `${filter} AND` : 'WHERE'} state = 'CONFIRMED'`;
  for (const p of await selectRows<{ id: number; product_id: number; quantity: number }>(conn, confirmed, params)) {
    add(num(p.product_id), purchaseMessageId(num(p.id)), -num(p.quantity));
  }
  return [...byProduct].map(([productId, e]) => ({ productId, stock: e.stock, ledger: e.ledger }));
}

/** The Stock service's record, read from the Purchase service's database. */
export function mysqlStockRecord(store: InventoryStore): StockRecord {
  return {
    currentGeneration: () => store.transaction((tx) => repo.stockGeneration(tx.handle)),
    nextGeneration: () => store.transaction((tx) => repo.bumpStockGeneration(tx.handle)),
    recordedStock: () => store.transaction((tx) => recordedStock(tx.handle)),
  };
}
