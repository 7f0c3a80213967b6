import type { SqlExecutor } from '@concord/core';
import type { ServiceSchema, ServiceSql } from '@concord/example-customers-orders/service-schema';

export type ShipmentState =
  'LABEL_REQUESTED' | 'LABEL_CREATED' | 'LABEL_FAILED' | 'CANCEL_REQUESTED' | 'CANCELLED';

export interface Shipment {
  readonly shipmentId: number;
  readonly orderId: number;
  readonly state: ShipmentState;
  readonly labelId: string | null;
}

/** The Shipping service's own tables, in schema `shipping` (see the service-schema module of customers-orders). */
export const shipmentSchema: ServiceSchema = {
  name: 'shipping',
  migrations: [
    {
      version: 1,
      name: 'shipments and their id sequence',
      up: (d) => [
        `CREATE TABLE ${d.table('example_shipment_ids')} (name ${d.types.key} NOT NULL PRIMARY KEY, last_id ${d.types.bigint} NOT NULL)`,
        `CREATE TABLE ${d.table('example_shipments')} (id ${d.types.bigint} NOT NULL PRIMARY KEY, order_id ${d.types.bigint} NOT NULL, ` +
          `state ${d.types.key} NOT NULL, label_id ${d.types.key} NULL, created_at ${d.types.bigint} NOT NULL, updated_at ${d.types.bigint} NOT NULL)`,
      ],
    },
  ],
  formerlyInConcord: ['example_shipment_ids', 'example_shipments'],
};

type Row = { id: number | string; order_id: number | string; state: string; label_id: string | null };
const toShipment = (r: Row): Shipment => ({
  shipmentId: Number(r.id),
  orderId: Number(r.order_id),
  state: r.state as ShipmentState,
  labelId: r.label_id ?? null,
});

export class ShipmentRepository {
  constructor(private readonly d: ServiceSql) {}

  private get shipments() {
    return this.d.table('example_shipments');
  }

  /** The next shipment id, from a counter row locked by this transaction. */
  async nextId(sql: SqlExecutor): Promise<number> {
    const table = this.d.table('example_shipment_ids');
    await sql.execute(this.d.insertIgnore(table, ['name', 'last_id']), ['shipment', 0]);
    await sql.execute(`UPDATE ${table} SET last_id = last_id + 1 WHERE name = ?`, ['shipment']);
    const rows = await sql.query<{ last_id: number | string }>(
      `SELECT last_id FROM ${table} WHERE name = ?`,
      ['shipment'],
    );
    return Number(rows[0]!.last_id);
  }

  async insert(sql: SqlExecutor, shipmentId: number, orderId: number, now: number): Promise<void> {
    await sql.execute(
      `INSERT INTO ${this.shipments} (id, order_id, state, label_id, created_at, updated_at) VALUES (?, ?, 'LABEL_REQUESTED', NULL, ?, ?)`,
      [shipmentId, orderId, now, now],
    );
  }

  async find(sql: SqlExecutor, shipmentId: number, forUpdate = false): Promise<Shipment | undefined> {
    const rows = await sql.query<Row>(
      `SELECT id, order_id, state, label_id FROM ${this.shipments} WHERE id = ?${forUpdate ? this.d.forUpdate : ''}`,
      [shipmentId],
    );
    return rows[0] ? toShipment(rows[0]) : undefined;
  }

  async list(sql: SqlExecutor, limit: number): Promise<Shipment[]> {
    const rows = await sql.query<Row>(
      `SELECT id, order_id, state, label_id FROM ${this.shipments} ORDER BY id LIMIT ?`,
      [limit],
    );
    return rows.map(toShipment);
  }

  /** Moves a shipment to `to` only from one of `from`; false when it was elsewhere. */
  async transition(
    sql: SqlExecutor,
    shipmentId: number,
    from: readonly ShipmentState[],
    to: ShipmentState,
    labelId: string | null,
    now: number,
  ): Promise<boolean> {
    const changed = await sql.execute(
      `UPDATE ${this.shipments} SET state = ?, label_id = COALESCE(?, label_id), updated_at = ? ` +
        `WHERE id = ? AND state IN (${from.map(() => '?').join(', ')})`,
      [to, labelId, now, shipmentId, ...from],
    );
    return changed === 1;
  }
}
