import type { SqlExecutor } from '@concord/core';
import { sequencesTable } from '@concord/example-customers-orders/db';
import type { ServiceSchema, ServiceSql } from '@concord/example-customers-orders/service-schema';
import type { OrderState, RejectionReason } from '../contracts.js';

/** The order service's own tables, in schema `food_orders`. */
export const orderSchema: ServiceSchema = {
  name: 'food_orders',
  migrations: [
    {
      version: 1,
      name: 'food orders and idempotency keys',
      up: (d) => [
        ...sequencesTable(d),
        `CREATE TABLE ${d.table('example_food_orders')} (id ${d.types.bigint} NOT NULL PRIMARY KEY, kitchen_id ${d.types.bigint} NOT NULL, ` +
          `state ${d.types.key} NOT NULL, rejection_reason ${d.types.key} NULL, agent_id ${d.types.bigint} NULL, ` +
          `version ${d.types.int} NOT NULL, created_at ${d.types.bigint} NOT NULL, updated_at ${d.types.bigint} NOT NULL)`,
        `CREATE TABLE ${d.table('example_food_order_keys')} (idem_key ${d.types.key} NOT NULL PRIMARY KEY, ` +
          `order_id ${d.types.bigint} NOT NULL, kitchen_id ${d.types.bigint} NOT NULL)`,
      ],
    },
  ],
  formerlyInConcord: ['example_sequences', 'example_food_orders', 'example_food_order_keys'],
};

export interface FoodOrder {
  readonly orderId: number;
  readonly kitchenId: number;
  readonly state: OrderState;
  readonly rejectionReason: RejectionReason | null;
  readonly agentId: number | null;
  readonly version: number;
}

type Row = Record<string, unknown>;
const COLUMNS = 'id, kitchen_id, state, rejection_reason, agent_id, version';
const toOrder = (r: Row): FoodOrder => ({
  orderId: Number(r.id),
  kitchenId: Number(r.kitchen_id),
  state: String(r.state) as OrderState,
  rejectionReason: (r.rejection_reason ?? null) as RejectionReason | null,
  agentId: r.agent_id == null ? null : Number(r.agent_id),
  version: Number(r.version),
});

export class OrderRepository {
  constructor(private readonly d: ServiceSql) {}

  private get orders() {
    return this.d.table('example_food_orders');
  }

  /** Binds an idempotency key to an order; returns the order (and kitchen) it was bound to before, if any. */
  async claimKey(sql: SqlExecutor, key: string, orderId: number, kitchenId: number): Promise<{ orderId: number; kitchenId: number } | undefined> {
    const table = this.d.table('example_food_order_keys');
    if ((await sql.execute(this.d.insertIgnore(table, ['idem_key', 'order_id', 'kitchen_id']), [key, orderId, kitchenId])) === 1) return undefined;
    const rows = await sql.query<Row>(`SELECT order_id, kitchen_id FROM ${table} WHERE idem_key = ?`, [key]);
    return { orderId: Number(rows[0]!.order_id), kitchenId: Number(rows[0]!.kitchen_id) };
  }

  async insertPending(sql: SqlExecutor, orderId: number, kitchenId: number, now: number): Promise<FoodOrder> {
    await sql.execute(
      `INSERT INTO ${this.orders} (id, kitchen_id, state, rejection_reason, agent_id, version, created_at, updated_at) VALUES (?, ?, ?, NULL, NULL, 1, ?, ?)`,
      [orderId, kitchenId, 'PENDING', now, now],
    );
    return { orderId, kitchenId, state: 'PENDING', rejectionReason: null, agentId: null, version: 1 };
  }

  async find(sql: SqlExecutor, orderId: number, forUpdate = false): Promise<FoodOrder | undefined> {
    const rows = await sql.query<Row>(`SELECT ${COLUMNS} FROM ${this.orders} WHERE id = ?${forUpdate ? this.d.forUpdate : ''}`, [orderId]);
    return rows[0] ? toOrder(rows[0]) : undefined;
  }

  async countByState(sql: SqlExecutor): Promise<Record<string, number>> {
    const rows = await sql.query<{ state: string; n: number | string }>(`SELECT state, COUNT(*) AS n FROM ${this.orders} GROUP BY state`);
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }

  /** Moves an order from one of `from` to `to`; undefined (nothing changed) when it is elsewhere. */
  async transition(
    sql: SqlExecutor,
    orderId: number,
    from: readonly OrderState[],
    to: OrderState,
    change: { rejectionReason?: RejectionReason; agentId?: number | null },
    now: number,
  ): Promise<FoodOrder | undefined> {
    const sets = ['state = ?', 'version = version + 1', 'updated_at = ?'];
    const params: unknown[] = [to, now];
    if (change.rejectionReason !== undefined) {
      sets.push('rejection_reason = ?');
      params.push(change.rejectionReason);
    }
    if (change.agentId !== undefined) {
      sets.push('agent_id = ?');
      params.push(change.agentId);
    }
    const changed = await sql.execute(
      `UPDATE ${this.orders} SET ${sets.join(', ')} WHERE id = ? AND state IN (${from.map(() => '?').join(', ')})`,
      [...params, orderId, ...from],
    );
    return changed === 1 ? this.find(sql, orderId) : undefined;
  }
}
