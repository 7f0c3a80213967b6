import {
  IllegalStateError,
  writeLater,
  MessageConsumer,
  RebuildInProgressError,
  type Broker,
  type Instrumentation,
  type Logger,
  type SqlBroker,
  type SqlExecutor,
  type SqlStore,
} from '@concord/core';
import {
  CreditReservationFailed,
  CreditReserved,
  CUSTOMER_EVENTS,
  CustomerCreated,
  ORDER_EVENTS,
  OrderApproved,
  OrderCancelled,
  OrderCreated,
  OrderRejected,
  type OrderSnapshot,
} from '../contracts.js';
import { migrateService } from '../db.js';
import { serviceSql, type ServiceSchema, type ServiceSql } from '../service-schema/index.js';
import { formatMoney } from '../money.js';

export const VIEW_NAME = 'order-history';

/** The view's own tables, in schema `order_history` (see ../service-schema). */
export const orderHistorySchema: ServiceSchema = {
  name: 'order_history',
  migrations: [
    {
      version: 1,
      name: 'order history view',
      up: (d) => [
        `CREATE TABLE ${d.table('view_customers')} (customer_id ${d.types.bigint} NOT NULL PRIMARY KEY, name ${d.types.text} NULL, ` +
          `credit_limit ${d.types.bigint} NULL, version ${d.types.int} NOT NULL)`,
        `CREATE TABLE ${d.table('view_orders')} (order_id ${d.types.bigint} NOT NULL PRIMARY KEY, customer_id ${d.types.bigint} NOT NULL, ` +
          `state ${d.types.key} NOT NULL, order_total ${d.types.bigint} NOT NULL, order_version ${d.types.int} NOT NULL)`,
        // On PostgreSQL the index lands in the table's schema.
        `CREATE INDEX view_orders_customer ON ${d.table('view_orders')} (customer_id)`,
      ],
    },
  ],
  formerlyInConcord: ['view_customers', 'view_orders'],
};

export interface OrderHistory {
  readonly id: number;
  readonly name: string;
  readonly creditLimit: { amount: string };
  readonly orders: Record<string, { orderId: number; state: string; orderTotal: { amount: string } }>;
  /** Grows with every event applied to this customer's view: a client holding a newer version knows this one is stale. */
  readonly version: number;
}

/**
 * The CQRS view behind GET /customers/:id/orderhistory, in its own database. Idempotent (the
 * inbox for customers, each order's version for orders), correct when events arrive out of order (each order keeps the newest version it saw,
 * a customer row may appear before its CustomerCreated), and rebuildable by replay.
 */
export class OrderHistoryView {
  private consumer: MessageConsumer | undefined;
  private rebuilding = false;
  private readonly sql: ServiceSql;

  constructor(private readonly options: { store: SqlStore; broker: Broker; logger: Logger; instrumentation?: Instrumentation }) {
    this.sql = serviceSql(options.store, orderHistorySchema.name);
  }

  private t(name: string) {
    return this.sql.table(name);
  }

  async start(): Promise<void> {
    await migrateService(this.options.store, orderHistorySchema);
    await this.startConsumer();
  }

  private async startConsumer(): Promise<void> {
    const { store, broker, logger } = this.options;
    const apply = (tx: { sql: SqlExecutor }, order: OrderSnapshot) => this.applyOrder(tx.sql, order, false);
    const applyCreated = (tx: { sql: SqlExecutor }, order: OrderSnapshot) => this.applyOrder(tx.sql, order, true);
    // Each order row keeps the newest version it saw, so a repeated event changes nothing: no
    // inbox row is needed for them (CustomerCreated bumps a counter, and keeps the inbox).
    const idempotent = { idempotent: true };
    this.consumer = new MessageConsumer({ name: VIEW_NAME, store, broker, logger, instrumentation: this.options.instrumentation })
      .handle(CustomerCreated, async (tx, c) => {
        const changed = await tx.sql.execute(
          `UPDATE ${this.t('view_customers')} SET name = ?, credit_limit = ?, version = version + 1 WHERE customer_id = ?`,
          [c.name, c.creditLimit, c.customerId],
        );
        if (changed === 0) {
          await tx.sql.execute(`INSERT INTO ${this.t('view_customers')} (customer_id, name, credit_limit, version) VALUES (?, ?, ?, 1)`, [
            c.customerId,
            c.name,
            c.creditLimit,
          ]);
        }
      })
      .handle(OrderCreated, applyCreated, idempotent)
      .handle(OrderApproved, apply, idempotent)
      .handle(OrderRejected, apply, idempotent)
      .handle(OrderCancelled, apply, idempotent)
      .ignore(CreditReserved, CreditReservationFailed);
    await this.consumer.start();
  }

  /** The view's consumer is consuming: for /ready. */
  isRunning(): boolean {
    return this.consumer?.isRunning() ?? false;
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }

  /** The event partitions this instance applies right now (for status pages and tests). */
  assignedPartitions(): string[] {
    return this.consumer?.assignedPartitions() ?? [];
  }

  /**
   * Newest version wins. Where the store pipelines statements (PostgreSQL), without waiting
   * for an answer: both statements are queued with the transaction's next one (`writeLater`),
   * so a batch of events costs its commit's round trip only. The update changes an older row;
   * the insert adds the row when this is the first event of the order to arrive (out of order,
   * a late creation then changes nothing). Elsewhere one statement when events come in order:
   * a creation is inserted, a later state updates the row it finds, and only out of order does
   * the other statement follow (on MariaDB two statements a time cost more than the wait).
   */
  private async applyOrder(sql: SqlExecutor, order: OrderSnapshot, created: boolean): Promise<void> {
    const update = `UPDATE ${this.t('view_orders')} SET state = ?, order_version = ? WHERE order_id = ? AND order_version < ?`;
    const updateParams = [order.state, order.version, order.orderId, order.version];
    const insert = this.sql.insertIgnore(this.t('view_orders'), ['order_id', 'customer_id', 'state', 'order_total', 'order_version']);
    const insertParams = [order.orderId, order.customerId, order.state, order.orderTotal, order.version];
    if (this.options.store.capabilities.pipelinesStatements) {
      await writeLater(sql, update, updateParams);
      await writeLater(sql, insert, insertParams);
    } else if (created) {
      if ((await sql.execute(insert, insertParams)) !== 1) await sql.execute(update, updateParams);
    } else if ((await sql.execute(update, updateParams)) !== 1) {
      await sql.execute(insert, insertParams);
    }
    // No per-customer counter is bumped here: orders of one customer arrive on many partitions
    // at once, and a shared row would make them wait for each other. The view's version is
    // derived when read (see get).
  }

  async get(customerId: number): Promise<OrderHistory | undefined> {
    return this.options.store.transaction(async (tx) => {
      const customers = await tx.sql.query<{ name: string | null; credit_limit: number | string | null; version: number | string }>(
        `SELECT name, credit_limit, version FROM ${this.t('view_customers')} WHERE customer_id = ?`,
        [customerId],
      );
      const customer = customers[0];
      if (!customer || customer.name === null) return undefined;
      const orders = await tx.sql.query<{ order_id: number | string; state: string; order_total: number | string; order_version: number | string }>(
        `SELECT order_id, state, order_total, order_version FROM ${this.t('view_orders')} WHERE customer_id = ? ORDER BY order_id`,
        [customerId],
      );
      return {
        id: customerId,
        name: customer.name,
        creditLimit: formatMoney(Number(customer.credit_limit)),
        orders: Object.fromEntries(
          orders.map((o) => [
            String(o.order_id),
            { orderId: Number(o.order_id), state: o.state, orderTotal: formatMoney(Number(o.order_total)) },
          ]),
        ),
        // Grows with every event applied to this customer or to one of its orders.
        version: Number(customer.version) + orders.reduce((sum, o) => sum + Number(o.order_version), 0),
      };
    });
  }

  /**
   * Drops the view and replays every retained event into it, coordinated with every other
   * instance of this view (the broker pauses all of them, rewinds, and lets them all go on
   * from the rewound position). A second rebuild meanwhile, here or on another instance, is
   * refused with RebuildInProgressError (409). See docs/decisions/010-coordinated-view-rebuild.md.
   */
  async rebuild(): Promise<void> {
    const { store, broker } = this.options;
    const rebuild = (broker as Broker & Partial<Pick<SqlBroker, 'rebuild'>>).rebuild;
    if (!rebuild) {
      throw new IllegalStateError(`broker ${broker.name} cannot rewind a consumer group, so the view cannot be rebuilt by replay`);
    }
    if (this.rebuilding) throw new RebuildInProgressError(VIEW_NAME);
    this.rebuilding = true;
    try {
      await rebuild.call(broker, VIEW_NAME, [CUSTOMER_EVENTS, ORDER_EVENTS], async () => {
        await store.transaction(async (tx) => {
          await tx.sql.execute(`DELETE FROM ${this.t('view_orders')}`);
          await tx.sql.execute(`DELETE FROM ${this.t('view_customers')}`);
          await tx.sql.execute(`DELETE FROM ${store.driver.dialect.table('inbox')} WHERE consumer = ?`, [VIEW_NAME]);
        });
      });
    } finally {
      this.rebuilding = false;
    }
  }
}
