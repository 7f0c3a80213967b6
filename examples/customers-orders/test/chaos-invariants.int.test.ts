/**
 * The chaos campaign's invariant checks can fail: consistent data passes, and each planted
 * fault (a saga left running, credit reserved twice, a stale view row, an order without its
 * request, a dead letter) is reported. Tables reduced to the columns the checks read, in
 * databases of this test's own on the shared PostgreSQL.
 */
import { serviceAvailable, services } from '@concord/core/testing';
import { dropPostgresDatabase, ensurePostgresDatabase } from '@concord/postgres';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { customerSchema } from '../src/customer-service/customer-repository.js';
import { orderHistorySchema } from '../src/order-history/order-history-view.js';
import { orderSchema } from '../src/order-service/order-repository.js';
import { checkInvariants, type ClientRecord, type Readers } from './chaos/invariants.js';
import { openReader, type SqlReader } from './chaos/sql-reader.js';

const available = await serviceAvailable(services.postgres);
const base = `postgres://postgres@127.0.0.1:5432/chaosinv_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const SERVICES = ['customer-service', 'order-service', 'order-history'] as const;
const url = (s: string) => `${base}_${s.replaceAll('-', '_')}`;
// Each service's own schema, beside Concord's.
const OWN: Record<(typeof SERVICES)[number], string> = {
  'customer-service': customerSchema.name,
  'order-service': orderSchema.name,
  'order-history': orderHistorySchema.name,
};

const SCHEMA: Record<(typeof SERVICES)[number], string[]> = {
  'customer-service': [
    'CREATE TABLE customers.example_customers (id BIGINT PRIMARY KEY, name TEXT, credit_limit BIGINT, available BIGINT)',
    'CREATE TABLE customers.example_credit_reservations (order_id BIGINT PRIMARY KEY, customer_id BIGINT, amount BIGINT)',
  ],
  'order-service': [
    'CREATE TABLE concord.saga_instances (saga_id TEXT PRIMARY KEY, status TEXT, failure_reason TEXT, last_error TEXT)',
    'CREATE TABLE orders.example_orders (id BIGINT PRIMARY KEY, customer_id BIGINT, total BIGINT, state TEXT, version INT)',
    "CREATE TABLE concord.idempotency_keys (scope TEXT, idem_key TEXT, response TEXT, PRIMARY KEY (scope, idem_key))",
  ],
  'order-history': [
    'CREATE TABLE order_history.view_orders (order_id BIGINT PRIMARY KEY, customer_id BIGINT, state TEXT, order_total BIGINT, order_version INT)',
    'CREATE TABLE order_history.view_customers (customer_id BIGINT PRIMARY KEY, name TEXT, credit_limit BIGINT)',
  ],
};
// A consistent system: customer 1 (limit 100) with order 10 APPROVED (30), order 11 REJECTED, order 12 CANCELLED.
const DATA: Record<(typeof SERVICES)[number], string[]> = {
  'customer-service': [
    "INSERT INTO customers.example_customers VALUES (1, 'Ann', 10000, 7000)",
    'INSERT INTO customers.example_credit_reservations VALUES (10, 1, 3000)',
  ],
  'order-service': [
    "INSERT INTO concord.saga_instances VALUES ('create-order-10', 'COMPLETED', NULL, NULL), ('create-order-11', 'COMPENSATED', 'INSUFFICIENT_CREDIT', NULL), ('create-order-12', 'COMPLETED', NULL, NULL), ('cancel-order-12', 'COMPLETED', NULL, NULL)",
    "INSERT INTO orders.example_orders VALUES (10, 1, 3000, 'APPROVED', 3), (11, 1, 9000, 'REJECTED', 2), (12, 1, 500, 'CANCELLED', 4)",
    "INSERT INTO concord.idempotency_keys VALUES ('orders.create', 'k10', '10'), ('orders.create', 'k11', '11'), ('orders.create', 'k12', '12')",
  ],
  'order-history': [
    "INSERT INTO order_history.view_orders VALUES (10, 1, 'APPROVED', 3000, 3), (11, 1, 'REJECTED', 9000, 2), (12, 1, 'CANCELLED', 500, 4)",
    "INSERT INTO order_history.view_customers VALUES (1, 'Ann', 10000)",
  ],
};
const client: ClientRecord = { answered: new Map([['k10', 10], ['k11', 11], ['k12', 12]]), unanswered: new Set(), cancelled: new Set([12]) };

describe.skipIf(!available)('chaos campaign invariants', () => {
  const readers: SqlReader[] = [];
  let db: Readers;
  const exec = async (service: (typeof SERVICES)[number], sql: string) => {
    const c = new pg.Client({ connectionString: url(service) });
    await c.connect();
    await c.query(sql).finally(() => c.end());
  };

  beforeAll(async () => {
    for (const s of SERVICES) {
      await ensurePostgresDatabase(url(s));
      readers.push(await openReader(base, s));
    }
    db = { customers: readers[0]!, orders: readers[1]!, history: readers[2]! };
  });
  afterAll(async () => {
    for (const r of readers) await r.close();
    for (const s of SERVICES) await dropPostgresDatabase(url(s)).catch(() => undefined);
  });
  beforeEach(async () => {
    for (const s of SERVICES) {
      await exec(s, `DROP SCHEMA IF EXISTS concord CASCADE; CREATE SCHEMA concord; DROP SCHEMA IF EXISTS ${OWN[s]} CASCADE; CREATE SCHEMA ${OWN[s]}`);
      for (const sql of [...SCHEMA[s], ...DATA[s], 'CREATE TABLE concord.dead_letters (id INT)', 'CREATE TABLE concord.outbox (sent_at BIGINT)']) await exec(s, sql);
    }
  });

  it('finds nothing wrong in a consistent system', async () => {
    const snapshot = await checkInvariants(db, client);
    expect(snapshot.violations).toEqual([]);
    expect(snapshot).toMatchObject({ sagas: 4, orders: 3, unsettled: 0, sagasByStatus: { COMPLETED: 3, COMPENSATED: 1 } });
  });

  it.each([
    ['a saga left running', 'order-service', "UPDATE concord.saga_instances SET status = 'RUNNING' WHERE saga_id = 'create-order-10'", /saga create-order-10 is still RUNNING/],
    ['a STUCK saga without a reason', 'order-service', "UPDATE concord.saga_instances SET status = 'STUCK' WHERE saga_id = 'create-order-10'", /STUCK without a reason/],
    ['credit taken twice', 'customer-service', 'UPDATE customers.example_customers SET available = 4000', /customer 1: available 4000 != limit 10000 - approved 3000/],
    ['credit released for a live order', 'customer-service', 'DELETE FROM customers.example_credit_reservations', /order 10 is APPROVED but its reservation is missing/],
    ['a stale view row', 'order-history', "UPDATE order_history.view_orders SET state = 'PENDING', order_version = 1 WHERE order_id = 10", /view: order 10 is PENDING v1, source APPROVED v3/],
    ['an order nobody asked for', 'order-service', "INSERT INTO orders.example_orders VALUES (13, 1, 100, 'REJECTED', 2)", /order 13 exists without the request key/],
    ['an answered order that was lost', 'order-service', "DELETE FROM concord.idempotency_keys WHERE idem_key = 'k11'", /request k11 was answered with order 11, but the key holds nothing/],
    ['a dead letter', 'order-history', 'INSERT INTO concord.dead_letters VALUES (1)', /history: 1 dead-lettered messages/],
    ['an unsent outbox message', 'customer-service', 'INSERT INTO concord.outbox VALUES (NULL)', /customers: 1 outbox messages never sent/],
  ] as const)('reports %s', async (_, service, plant, expected) => {
    await exec(service, plant);
    const snapshot = await checkInvariants(db, client);
    expect(snapshot.violations.join('\n')).toMatch(expected);
  });
});
