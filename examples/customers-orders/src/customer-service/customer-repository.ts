import type { SqlExecutor } from '@concord/core';
import { sequencesTable } from '../db.js';
import type { ServiceSchema, ServiceSql } from '../service-schema/index.js';
import type { Cents } from '../money.js';

export interface Customer {
  readonly customerId: number;
  readonly name: string;
  readonly creditLimit: Cents;
  readonly availableCredit: Cents;
}

/** The customer service's own tables, in schema `customers` (see ../service-schema). */
export const customerSchema: ServiceSchema = {
  name: 'customers',
  migrations: [
    {
      version: 1,
      name: 'customers and credit reservations',
      up: (d) => [
        ...sequencesTable(d),
        `CREATE TABLE ${d.table('example_customers')} (id ${d.types.bigint} NOT NULL PRIMARY KEY, name ${d.types.text} NOT NULL, ` +
          `credit_limit ${d.types.bigint} NOT NULL, available ${d.types.bigint} NOT NULL)`,
        `CREATE TABLE ${d.table('example_credit_reservations')} (order_id ${d.types.bigint} NOT NULL PRIMARY KEY, ` +
          `customer_id ${d.types.bigint} NOT NULL, amount ${d.types.bigint} NOT NULL)`,
      ],
    },
  ],
  formerlyInConcord: ['example_sequences', 'example_customers', 'example_credit_reservations'],
};

export type ReserveOutcome =
  | { readonly kind: 'reserved' }
  | { readonly kind: 'unknown-customer' }
  | { readonly kind: 'insufficient'; readonly available: Cents };

type Row = { id: number | string; name: string; credit_limit: number | string; available: number | string };
const toCustomer = (r: Row): Customer => ({
  customerId: Number(r.id),
  name: r.name,
  creditLimit: Number(r.credit_limit),
  availableCredit: Number(r.available),
});

/** The customer service's data access, in portable SQL on the transaction Concord hands out. */
export class CustomerRepository {
  constructor(private readonly d: ServiceSql) {}

  private t(name: string) {
    return this.d.table(name);
  }

  async create(sql: SqlExecutor, id: number, name: string, creditLimit: Cents): Promise<Customer> {
    await sql.execute(`INSERT INTO ${this.t('example_customers')} (id, name, credit_limit, available) VALUES (?, ?, ?, ?)`, [
      id,
      name,
      creditLimit,
      creditLimit,
    ]);
    return { customerId: id, name, creditLimit, availableCredit: creditLimit };
  }

  async find(sql: SqlExecutor, customerId: number): Promise<Customer | undefined> {
    const rows = await sql.query<Row>(`SELECT id, name, credit_limit, available FROM ${this.t('example_customers')} WHERE id = ?`, [
      customerId,
    ]);
    return rows[0] ? toCustomer(rows[0]) : undefined;
  }

  async list(sql: SqlExecutor): Promise<Customer[]> {
    const rows = await sql.query<Row>(`SELECT id, name, credit_limit, available FROM ${this.t('example_customers')} ORDER BY id`);
    return rows.map(toCustomer);
  }

  /**
   * Reserves credit for an order. The conditional UPDATE is atomic on every database, so
   * concurrent orders can never reserve more than the limit; a repeated reservation for the
   * same order is a no-op. The reservation row goes first: it answers "reserved already?" in
   * the same statement, and takes its lock before the customer's, the order `release` uses.
   * On PostgreSQL both go in one statement (one round trip instead of two).
   */
  async reserve(sql: SqlExecutor, customerId: number, orderId: number, amount: Cents): Promise<ReserveOutcome> {
    if (this.d.database === 'postgres') return this.reserveInOneStatement(sql, customerId, orderId, amount);
    const claimed = await sql.execute(this.d.insertIgnore(this.t('example_credit_reservations'), ['order_id', 'customer_id', 'amount']), [
      orderId,
      customerId,
      amount,
    ]);
    if (claimed === 0) return { kind: 'reserved' };
    const changed = await sql.execute(
      `UPDATE ${this.t('example_customers')} SET available = available - ? WHERE id = ? AND available >= ?`,
      [amount, customerId, amount],
    );
    if (changed === 1) return { kind: 'reserved' };
    return this.refused(sql, customerId, orderId);
  }

  /** The reservation claimed and the credit taken by one statement: data-modifying CTEs. */
  private async reserveInOneStatement(sql: SqlExecutor, customerId: number, orderId: number, amount: Cents): Promise<ReserveOutcome> {
    const [row] = await sql.query<{ claimed: number | string; debited: number | string }>(
      `WITH r AS (${this.d.insertIgnore(this.t('example_credit_reservations'), ['order_id', 'customer_id', 'amount'])} RETURNING order_id), ` +
        `u AS (UPDATE ${this.t('example_customers')} SET available = available - ? WHERE id = ? AND available >= ? AND EXISTS (SELECT 1 FROM r) RETURNING id) ` +
        `SELECT (SELECT count(*) FROM r) AS claimed, (SELECT count(*) FROM u) AS debited`,
      [orderId, customerId, amount, amount, customerId, amount],
    );
    if (Number(row!.claimed) === 0 || Number(row!.debited) === 1) return { kind: 'reserved' };
    return this.refused(sql, customerId, orderId);
  }

  /** Not enough credit (or no such customer): the reservation just claimed goes again. */
  private async refused(sql: SqlExecutor, customerId: number, orderId: number): Promise<ReserveOutcome> {
    await sql.execute(`DELETE FROM ${this.t('example_credit_reservations')} WHERE order_id = ?`, [orderId]);
    const customer = await this.find(sql, customerId);
    return customer ? { kind: 'insufficient', available: customer.availableCredit } : { kind: 'unknown-customer' };
  }

  /** Gives back what an order reserved; nothing if it reserved nothing (or it was released already). */
  async release(sql: SqlExecutor, orderId: number): Promise<boolean> {
    const rows = await sql.query<{ customer_id: number | string; amount: number | string }>(
      `SELECT customer_id, amount FROM ${this.t('example_credit_reservations')} WHERE order_id = ?${this.d.forUpdate}`,
      [orderId],
    );
    const reservation = rows[0];
    if (!reservation) return false;
    await sql.execute(`DELETE FROM ${this.t('example_credit_reservations')} WHERE order_id = ?`, [orderId]);
    await sql.execute(`UPDATE ${this.t('example_customers')} SET available = available + ? WHERE id = ?`, [
      Number(reservation.amount),
      Number(reservation.customer_id),
    ]);
    return true;
  }
}
