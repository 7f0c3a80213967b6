import pg from 'pg';
import { dropDatabasesWithPrefix } from '../lib/pg-counters.js';

const ADMIN = process.env.CONCORD_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * The create-order saga's business data for a peer system, as the demo keeps it: an orders
 * database and a customers database (each service owns its own), on the same PostgreSQL.
 * The three local transactions are the same for every peer; only who calls them differs.
 */
export class OrderDatabases {
  private nextOrder = 1;

  private constructor(
    readonly prefix: string,
    readonly orders: pg.Pool,
    readonly customers: pg.Pool,
  ) {}

  static async create(prefix: string, customerCount: number, poolSize = 20): Promise<OrderDatabases> {
    const admin = new pg.Client({ connectionString: ADMIN });
    await admin.connect();
    for (const db of ['orders', 'customers']) {
      await admin.query(`DROP DATABASE IF EXISTS "${prefix}_${db}" WITH (FORCE)`);
      await admin.query(`CREATE DATABASE "${prefix}_${db}"`);
    }
    await admin.end();
    const pool = (db: string) => {
      const p = new pg.Pool({ connectionString: urlOf(`${prefix}_${db}`), max: poolSize });
      // An idle client the server closes (a restart, a forced drop) is replaced, not fatal.
      p.on('error', (error) => console.warn(`peers: idle connection to ${prefix}_${db} lost: ${error.message}`));
      return p;
    };
    const dbs = new OrderDatabases(prefix, pool('orders'), pool('customers'));
    await dbs.orders.query(
      `CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, total bigint NOT NULL, state text NOT NULL, reason text)`,
    );
    await dbs.customers.query(`CREATE TABLE customers (id bigint PRIMARY KEY, credit_limit bigint NOT NULL, available bigint NOT NULL)`);
    await dbs.customers.query(
      `INSERT INTO customers SELECT g, 1000000000, 1000000000 FROM generate_series(1, $1::int) g`,
      [customerCount],
    );
    return dbs;
  }

  newOrderId(): number {
    return this.nextOrder++;
  }

  /** Local transaction 1 (order service): the order, PENDING. */
  async insertPending(orderId: number, customerId: number, total: number): Promise<void> {
    await this.orders.query(`INSERT INTO orders (id, customer_id, total, state) VALUES ($1, $2, $3, 'PENDING') ON CONFLICT (id) DO NOTHING`, [
      orderId,
      customerId,
      total,
    ]);
  }

  /** Local transaction 2 (customer service): reserve credit if there is enough. */
  async reserveCredit(customerId: number, amount: number): Promise<boolean> {
    const r = await this.customers.query(`UPDATE customers SET available = available - $2 WHERE id = $1 AND available >= $2`, [customerId, amount]);
    return r.rowCount === 1;
  }

  /** Local transaction 3 (order service): approve or reject. */
  async finish(orderId: number, approved: boolean): Promise<void> {
    await this.orders.query(`UPDATE orders SET state = $2, reason = $3 WHERE id = $1 AND state = 'PENDING'`, [
      orderId,
      approved ? 'APPROVED' : 'REJECTED',
      approved ? null : 'INSUFFICIENT_CREDIT',
    ]);
  }

  async close(): Promise<void> {
    await this.orders.end();
    await this.customers.end();
  }

  static async drop(prefix: string): Promise<void> {
    const admin = new pg.Client({ connectionString: ADMIN });
    await admin.connect();
    await dropDatabasesWithPrefix(admin, prefix);
    await admin.end();
  }
}

export function urlOf(database: string): string {
  const url = new URL(ADMIN);
  url.pathname = `/${database}`;
  return url.toString();
}

/** The saga's input for the i-th order: 100 customers, every 10th order over the limit. */
export function orderInput(i: number, customerCount = 100): { customerId: number; total: number } {
  return { customerId: (i % customerCount) + 1, total: i % 10 === 0 ? 2_000_000_000 : 100 };
}
