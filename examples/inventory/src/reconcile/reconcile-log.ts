import { execute, num, selectRows, type Conn } from '../purchase-service/sql.js';
import type { Decision, NeedsPersonItem, ReconcileAction, ReconcileReport, ReconcileRun } from './reconcile-types.js';

interface ItemRow {
  id: number;
  product_id: number;
  message_id: string;
  delta: number;
  reason: NeedsPersonItem['reason'];
  description: string;
  state: NeedsPersonItem['state'];
  created_at: number;
  resolved_by: string | null;
  resolved_at: number | null;
  resolution: Decision | null;
  note: string | null;
}

const toItem = (r: ItemRow): NeedsPersonItem => ({
  itemId: num(r.id),
  productId: num(r.product_id),
  messageId: r.message_id,
  delta: num(r.delta),
  reason: r.reason,
  description: r.description,
  state: r.state,
  createdAt: num(r.created_at),
  resolvedBy: r.resolved_by,
  resolvedAt: r.resolved_at === null ? null : num(r.resolved_at),
  resolution: r.resolution,
  note: r.note,
});

/** The durable log of reconciliation: runs, items for a person, and every action with who, when and why. */
export const reconcileLog = {
  async startRun(conn: Conn, actor: string, startedAt: number): Promise<number> {
    const sql = 'INSERT INTO inventory_reconcile_runs (actor, started_at, finished_at, checked, report) VALUES (?, ?, ?, 0, ?)';
    return (await execute(conn, sql, [actor, startedAt, startedAt, '{}'])).insertId;
  },

  async finishRun(conn: Conn, runId: number, report: ReconcileReport): Promise<void> {
    const sql = 'UPDATE inventory_reconcile_runs SET finished_at = ?, checked = ?, report = ? WHERE id = ?';
    await execute(conn, sql, [Date.now(), report.checked, JSON.stringify(report), runId]);
  },

  async runs(conn: Conn, limit: number): Promise<ReconcileRun[]> {
    const rows = await selectRows<{ id: number; actor: string; started_at: number; finished_at: number; report: string }>(
      conn,
      'SELECT * FROM inventory_reconcile_runs ORDER BY id DESC LIMIT ?',
      [limit],
    );
    return rows.map((r) => ({ runId: num(r.id), actor: r.actor, startedAt: num(r.started_at), finishedAt: num(r.finished_at), report: JSON.parse(r.report) }));
  },

  async action(
    conn: Conn,
    a: { runId: number | null; itemId: number | null; productId: number; kind: ReconcileAction['kind']; actor: string; why: string; detail: unknown },
  ): Promise<void> {
    const sql = 'INSERT INTO inventory_reconcile_actions (run_id, item_id, product_id, kind, actor, at, why, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';
    await execute(conn, sql, [a.runId, a.itemId, a.productId, a.kind, a.actor, Date.now(), a.why, JSON.stringify(a.detail)]);
  },

  async actions(conn: Conn, limit: number): Promise<ReconcileAction[]> {
    const rows = await selectRows<{ id: number; run_id: number | null; item_id: number | null; product_id: number; kind: ReconcileAction['kind']; actor: string; at: number; why: string; detail: string }>(
      conn,
      'SELECT * FROM inventory_reconcile_actions ORDER BY id DESC LIMIT ?',
      [limit],
    );
    return rows.map((r) => ({
      actionId: num(r.id),
      runId: r.run_id === null ? null : num(r.run_id),
      itemId: r.item_id === null ? null : num(r.item_id),
      productId: num(r.product_id),
      kind: r.kind,
      actor: r.actor,
      at: num(r.at),
      why: r.why,
      detail: JSON.parse(r.detail),
    }));
  },

  /** The open item for a ledger entry, created when there is none yet. */
  async openItem(
    conn: Conn,
    runId: number,
    item: { productId: number; messageId: string; delta: number; reason: NeedsPersonItem['reason']; description: string },
  ): Promise<{ item: NeedsPersonItem; created: boolean }> {
    const sql =
      'INSERT IGNORE INTO inventory_reconcile_items (run_id, product_id, message_id, delta, reason, description, state, open_key, created_at) ' +
      "VALUES (?, ?, ?, ?, ?, ?, 'OPEN', ?, ?)";
    const { affectedRows } = await execute(conn, sql, [runId, item.productId, item.messageId, item.delta, item.reason, item.description, openKey(item.productId, item.messageId), Date.now()]);
    const [row] = await selectRows<ItemRow>(conn, 'SELECT * FROM inventory_reconcile_items WHERE open_key = ?', [openKey(item.productId, item.messageId)]);
    return { item: toItem(row!), created: affectedRows === 1 };
  },

  async items(conn: Conn, state: NeedsPersonItem['state'] | undefined, limit: number): Promise<NeedsPersonItem[]> {
    const where = state ? 'WHERE state = ?' : '';
    const rows = await selectRows<ItemRow>(conn, `SELECT * FROM inventory_reconcile_items ${where} ORDER BY id DESC LIMIT ?`, state ? [state, limit] : [limit]);
    return rows.map(toItem);
  },

  async item(conn: Conn, itemId: number, lock = false): Promise<NeedsPersonItem | undefined> {
    const [row] = await selectRows<ItemRow>(conn, `SELECT * FROM inventory_reconcile_items WHERE id = ?${lock ? ' FOR UPDATE' : ''}`, [itemId]);
    return row ? toItem(row) : undefined;
  },

  async resolveItem(conn: Conn, itemId: number, actor: string, decision: Decision, note: string): Promise<void> {
    const sql =
      "UPDATE inventory_reconcile_items SET state = 'RESOLVED', open_key = NULL, resolved_by = ?, resolved_at = ?, resolution = ?, note = ? " +
      "WHERE id = ? AND state = 'OPEN'";
    await execute(conn, sql, [actor, Date.now(), decision, note, itemId]);
  },

  async insertAdjustment(conn: Conn, item: NeedsPersonItem): Promise<void> {
    const sql = 'INSERT IGNORE INTO inventory_stock_adjustments (message_id, product_id, delta, item_id, created_at) VALUES (?, ?, ?, ?, ?)';
    await execute(conn, sql, [item.messageId, item.productId, item.delta, item.itemId, Date.now()]);
  },
};

const openKey = (productId: number, messageId: string): string => `${productId}/${messageId}`.slice(0, 191);
