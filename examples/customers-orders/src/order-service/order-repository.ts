import { writeLater, type SqlExecutor } from '@concord/core';
import type { OrderSnapshot, OrderState, RejectionReason } from '../contracts.js';
import { sequencesTable } from '../db.js';
import type { ServiceSchema, ServiceSql } from '../service-schema/index.js';
import type { Cents } from '../money.js';

/** The order service's own tables, in schema `orders` (see ../service-schema). */
export const orderSchema: ServiceSchema = {
  name: 'orders',
  migrations: [
    {
      version: 1,
      name: 'orders and idempotency keys',
      up: (d) => [
        ...sequencesTable(d),
        `CREATE TABLE ${d.table('example_orders')} (id ${d.types.bigint} NOT NULL PRIMARY KEY, customer_id ${d.types.bigint} NOT NULL, ` +
          `total ${d.types.bigint} NOT NULL, state ${d.types.key} NOT NULL, rejection_reason ${d.types.key} NULL, ` +
          `version ${d.types.int} NOT NULL, created_at ${d.types.bigint} NOT NULL, updated_at ${d.types.bigint} NOT NULL)`,
        // No longer used: keys live in Concord's idempotency_keys table (store migration 3).
        `CREATE TABLE ${d.table('example_order_keys')} (idem_key ${d.types.key} NOT NULL PRIMARY KEY, order_id ${d.types.bigint} NOT NULL)`,
      ],
    },
  ],
  formerlyInConcord: ['example_sequences', 'example_orders', 'example_order_keys'],
};

type Row = {
  id: number | string;
  customer_id: number | string;
  total: number | string;
  state: string;
  rejection_reason: string | null;
  version: number | string;
};
const COLUMNS = 'id, customer_id, total, state, rejection_reason, version';
const toOrder = (r: Row): OrderSnapshot => ({
  orderId: Number(r.id),
  customerId: Number(r.customer_id),
  orderTotal: Number(r.total),
  state: r.state as OrderState,
  rejectionReason: (r.rejection_reason ?? null) as RejectionReason | null,
  version: Number(r.version),
});

export class OrderRepository {
  constructor(private readonly d: ServiceSql) {}

  private t(name: string) {
    return this.d.table(name);
  }

  async insertPending(sql: SqlExecutor, orderId: number, customerId: number, total: Cents, now: number): Promise<OrderSnapshot> {
    // Nothing here reads its result: on PostgreSQL it rides with the transaction's next statement.
    await writeLater(
      sql,
      `INSERT INTO ${this.t('example_orders')} (id, customer_id, total, state, rejection_reason, version, created_at, updated_at) ` +
        `VALUES (?, ?, ?, 'PENDING', NULL, 1, ?, ?)`,
      [orderId, customerId, total, now, now],
    );
    return { orderId, customerId, orderTotal: total, state: 'PENDING', rejectionReason: null, version: 1 };
  }

  async find(sql: SqlExecutor, orderId: number, forUpdate = false): Promise<OrderSnapshot | undefined> {
    const rows = await sql.query<Row>(
      `SELECT ${COLUMNS} FROM ${this.t('example_orders')} WHERE id = ?${forUpdate ? this.d.forUpdate : ''}`,
      [orderId],
    );
    return rows[0] ? toOrder(rows[0]) : undefined;
  }

  async findMany(sql: SqlExecutor, orderIds: readonly number[]): Promise<OrderSnapshot[]> {
    if (orderIds.length === 0) return [];
    const rows = await sql.query<Row>(
      `SELECT ${COLUMNS} FROM ${this.t('example_orders')} WHERE id IN (${orderIds.map(() => '?').join(', ')})`,
      orderIds,
    );
    return rows.map(toOrder);
  }

  async list(sql: SqlExecutor): Promise<OrderSnapshot[]> {
    return (await sql.query<Row>(`SELECT ${COLUMNS} FROM ${this.t('example_orders')} ORDER BY id`)).map(toOrder);
  }

  /** Moves an order to `to` only from one of `from`; undefined when it was not in such a state. */
  async transition(
    sql: SqlExecutor,
    orderId: number,
    from: readonly OrderState[],
    to: OrderState,
    reason: RejectionReason | null,
    now: number,
  ): Promise<OrderSnapshot | undefined> {
    const update =
      `UPDATE ${this.t('example_orders')} SET state = ?, rejection_reason = ?, version = version + 1, updated_at = ? ` +
      `WHERE id = ? AND state IN (${from.map(() => '?').join(', ')})`;
    const params = [to, reason, now, orderId, ...from];
    if (this.d.database !== 'mysql') {
      // The new row in the same statement; MariaDB has no UPDATE ... RETURNING.
      const rows = await sql.query<Row>(`${update} RETURNING ${COLUMNS}`, params);
      return rows[0] ? toOrder(rows[0]) : undefined;
    }
    return (await sql.execute(update, params)) === 1 ? this.find(sql, orderId) : undefined;
  }
}
