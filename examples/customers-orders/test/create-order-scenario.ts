import type { Logger, SqlStore } from '@concord/core';
import { openSqliteStore } from '@concord/sqlite';
import type { SagaScenario, ServiceEnv } from '@concord/testing';
import { CustomerService } from '../src/customer-service/customer-service.js';
import { OrderService } from '../src/order-service/order-service.js';

type Services = 'orders' | 'customers';

/** What a customer service must offer the scenario: the real one, or a copy under test. */
export interface CustomerSide {
  start(): Promise<void>;
  stop(): Promise<void>;
  createCustomer(name: string, creditLimit: number): Promise<{ customerId: number }>;
}

export type CustomerSideFactory = (options: { store: SqlStore; broker: ServiceEnv<Services>['broker']; logger: Logger }) => CustomerSide;

const realCustomerService: CustomerSideFactory = ({ store, broker, logger }) => new CustomerService({ store, broker, mode: 'orchestration', logger });

// #region scenario
/**
 * The demo's CreateOrder saga, end to end on the real order and customer services, each on
 * its own in-memory SQLite database: one order within the credit limit, one over it, one for
 * a customer who does not exist.
 */
export function createOrderScenario(customerSide: CustomerSideFactory = realCustomerService): SagaScenario<Services, { orders: OrderService; customers: CustomerSide }> {
  let customerId = 0;
  return {
    name: 'CreateOrder',
    openStores: async () => ({
      orders: await openSqliteStore({ filename: ':memory:' }),
      customers: await openSqliteStore({ filename: ':memory:' }),
    }),
    start: async ({ stores, broker, logger }) => {
      const customers = customerSide({ store: stores.customers, broker, logger });
      const orders = new OrderService({ store: stores.orders, broker, mode: 'orchestration', logger });
      await customers.start();
      await orders.start();
      return { orders, customers };
    },
    stop: async ({ orders, customers }) => {
      await orders.stop();
      await customers.stop();
    },
    prepare: async ({ customers }) => {
      customerId = (await customers.createCustomer('Ada', 10_000)).customerId;
    },
    act: async ({ orders }) => {
      await orders.createOrder(customerId, 6_000); // approved
      await orders.createOrder(customerId, 5_000); // over the limit by then: rejected
      await orders.createOrder(customerId + 1_000, 100); // unknown customer: rejected
    },
    invariants: {
      'every saga is COMPLETED or COMPENSATED': async ({ stores }) => {
        const open = await rows<{ saga_id: string; status: string }>(stores.orders, `SELECT saga_id, status FROM concord_saga_instances WHERE status NOT IN ('COMPLETED', 'COMPENSATED')`);
        if (open.length > 0) return `not finished: ${JSON.stringify(open)}`;
      },
      'no order is left PENDING': async ({ stores }) => {
        const pending = await rows<{ id: number }>(stores.orders, `SELECT id FROM example_orders WHERE state = 'PENDING'`);
        if (pending.length > 0) return `pending orders: ${pending.map((o) => o.id).join(', ')}`;
      },
      'an order is APPROVED exactly when its credit is reserved': async ({ stores }) => {
        const orders = await rows<{ id: number; state: string; total: number }>(stores.orders, 'SELECT id, state, total FROM example_orders');
        const reserved = new Map(
          (await rows<{ order_id: number; amount: number }>(stores.customers, 'SELECT order_id, amount FROM example_credit_reservations')).map((r) => [Number(r.order_id), Number(r.amount)]),
        );
        for (const order of orders) {
          const amount = reserved.get(Number(order.id));
          if (order.state === 'APPROVED' && amount !== Number(order.total)) return `order ${order.id} is APPROVED but ${amount ?? 'nothing'} is reserved for it`;
          if (order.state !== 'APPROVED' && amount !== undefined) return `order ${order.id} is ${order.state} but ${amount} is reserved for it`;
        }
      },
      'credit is conserved: available = limit - reserved, never below 0': async ({ stores }) => {
        const customers = await rows<{ id: number; credit_limit: number; available: number; reserved: number | null }>(
          stores.customers,
          'SELECT c.id, c.credit_limit, c.available, (SELECT SUM(amount) FROM example_credit_reservations r WHERE r.customer_id = c.id) AS reserved FROM example_customers c',
        );
        for (const c of customers) {
          const expected = Number(c.credit_limit) - Number(c.reserved ?? 0);
          if (Number(c.available) !== expected || expected < 0) return `customer ${c.id}: available ${c.available}, expected ${expected}`;
        }
      },
      'when the client heard back, the outcomes are the business ones': async ({ stores, actCompleted }) => {
        if (!actCompleted) return;
        const states = await rows<{ state: string; rejection_reason: string | null }>(stores.orders, 'SELECT state, rejection_reason FROM example_orders ORDER BY id');
        const got = states.map((s) => `${s.state}${s.rejection_reason ? `/${s.rejection_reason}` : ''}`).join(' ');
        if (got !== 'APPROVED REJECTED/INSUFFICIENT_CREDIT REJECTED/UNKNOWN_CUSTOMER') return `orders ended ${got}`;
      },
    },
  };
}
// #endregion scenario

function rows<T>(store: SqlStore, sql: string): Promise<T[]> {
  return store.driver.run((exec) => exec.query<T>(sql));
}
