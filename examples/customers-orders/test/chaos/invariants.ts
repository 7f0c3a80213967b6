/**
 * What must hold after the faults stop and the system settles, read straight from each
 * service's database:
 * - every saga is terminal (COMPLETED, COMPENSATED, ABORTED) or STUCK with a reason;
 * - every order is final, and its create saga agrees with it;
 * - credit is conserved: available = limit - sum of APPROVED orders, and the reservations are
 *   exactly those orders' totals (an order reserved twice or released twice breaks this);
 * - the order-history view equals its sources (customers and orders, state and version);
 * - nothing lost or applied twice: every answered request's order exists under its key, every
 *   order belongs to a request that was sent, no message was dead-lettered, the outboxes are sent.
 */
import { customerSchema } from '../../src/customer-service/customer-repository.js';
import { orderHistorySchema } from '../../src/order-history/order-history-view.js';
import { orderSchema } from '../../src/order-service/order-repository.js';
import type { SqlReader } from './sql-reader.js';

export interface Readers {
  readonly customers: SqlReader;
  readonly orders: SqlReader;
  readonly history: SqlReader;
}

/** What the load generator knows from the client side. */
export interface ClientRecord {
  /** Idempotency key -> the order id the API answered with. */
  readonly answered: ReadonlyMap<string, number>;
  /** Keys sent but never answered with 200 (gave up at the deadline). */
  readonly unanswered: ReadonlySet<string>;
  /** Orders whose cancel was answered 200. */
  readonly cancelled: ReadonlySet<number>;
}

export interface Snapshot {
  readonly sagas: number;
  readonly sagasByStatus: Record<string, number>;
  readonly orders: number;
  /** Sagas still RUNNING/COMPENSATING, orders PENDING, unsent outbox rows, view rows differing. */
  readonly unsettled: number;
  readonly violations: string[];
}

type Num = number | string;
const TERMINAL = new Set(['COMPLETED', 'COMPENSATED', 'ABORTED']);

/** Reads everything once and checks every invariant; `unsettled` says whether to wait and look again. */
export async function checkInvariants(db: Readers, client: ClientRecord): Promise<Snapshot> {
  const violations: string[] = [];
  const say = (v: string) => violations.length < 50 && violations.push(v);
  let unsettled = 0;

  const sagas = await db.orders.rows<{ saga_id: string; status: string; failure_reason: string | null; last_error: string | null }>(
    `SELECT saga_id, status, failure_reason, last_error FROM ${db.orders.table('saga_instances')}`,
  );
  const sagasByStatus: Record<string, number> = {};
  const sagaStatus = new Map<string, string>();
  for (const s of sagas) {
    sagasByStatus[s.status] = (sagasByStatus[s.status] ?? 0) + 1;
    sagaStatus.set(s.saga_id, s.status);
    if (s.status === 'STUCK') {
      if (!s.failure_reason && !s.last_error) say(`saga ${s.saga_id} is STUCK without a reason`);
    } else if (!TERMINAL.has(s.status)) {
      unsettled++;
      say(`saga ${s.saga_id} is still ${s.status}`);
    }
  }

  const orders = await db.orders.rows<{ id: Num; customer_id: Num; total: Num; state: string; version: Num }>(
    `SELECT id, customer_id, total, state, version FROM ${db.orders.ownTable(orderSchema, 'example_orders')}`,
  );
  const byId = new Map(orders.map((o) => [Number(o.id), o]));
  for (const o of orders) {
    const id = Number(o.id);
    const create = sagaStatus.get(`create-order-${id}`);
    if (o.state === 'PENDING') {
      unsettled++;
      say(`order ${id} is still PENDING`);
    } else if (create === undefined) say(`order ${id} (${o.state}) has no create-order saga`);
    else if (create === 'COMPLETED' && o.state !== 'APPROVED' && o.state !== 'CANCELLED') say(`order ${id} is ${o.state} but its saga COMPLETED`);
    else if (create === 'COMPENSATED' && o.state !== 'REJECTED') say(`order ${id} is ${o.state} but its saga was COMPENSATED`);
    const cancel = sagaStatus.get(`cancel-order-${id}`);
    if (cancel === 'COMPLETED' && o.state !== 'CANCELLED') say(`order ${id} is ${o.state} but its cancel saga COMPLETED`);
  }
  for (const id of client.cancelled) {
    if (byId.get(id)?.state !== 'CANCELLED') say(`order ${id}: cancel answered 200, but the order is ${byId.get(id)?.state ?? 'missing'}`);
  }

  // Credit conservation.
  const customers = await db.customers.rows<{ id: Num; name: string; credit_limit: Num; available: Num }>(
    `SELECT id, name, credit_limit, available FROM ${db.customers.ownTable(customerSchema, 'example_customers')}`,
  );
  const reservations = await db.customers.rows<{ order_id: Num; customer_id: Num; amount: Num }>(
    `SELECT order_id, customer_id, amount FROM ${db.customers.ownTable(customerSchema, 'example_credit_reservations')}`,
  );
  const approvedSum = new Map<number, number>();
  for (const o of orders) if (o.state === 'APPROVED') approvedSum.set(Number(o.customer_id), (approvedSum.get(Number(o.customer_id)) ?? 0) + Number(o.total));
  for (const c of customers) {
    const expected = Number(c.credit_limit) - (approvedSum.get(Number(c.id)) ?? 0);
    if (Number(c.available) !== expected) {
      unsettled++;
      say(`customer ${c.id}: available ${c.available} != limit ${c.credit_limit} - approved ${approvedSum.get(Number(c.id)) ?? 0}`);
    }
  }
  const reserved = new Map(reservations.map((r) => [Number(r.order_id), r]));
  for (const o of orders) {
    const r = reserved.get(Number(o.id));
    if (o.state === 'APPROVED' && (!r || Number(r.amount) !== Number(o.total) || Number(r.customer_id) !== Number(o.customer_id))) {
      say(`order ${o.id} is APPROVED but its reservation is ${r ? `${r.amount} of customer ${r.customer_id}` : 'missing'}`);
    }
    if (o.state !== 'APPROVED' && r) {
      unsettled++;
      say(`order ${o.id} is ${o.state} but still holds a reservation of ${r.amount}`);
    }
  }
  for (const id of reserved.keys()) if (!byId.has(id)) say(`reservation for order ${id}, which does not exist`);

  // The order-history view against its sources.
  const viewOrders = await db.history.rows<{ order_id: Num; customer_id: Num; state: string; order_total: Num; order_version: Num }>(
    `SELECT order_id, customer_id, state, order_total, order_version FROM ${db.history.ownTable(orderHistorySchema, 'view_orders')}`,
  );
  const viewCustomers = await db.history.rows<{ customer_id: Num; name: string | null; credit_limit: Num | null }>(
    `SELECT customer_id, name, credit_limit FROM ${db.history.ownTable(orderHistorySchema, 'view_customers')}`,
  );
  const viewById = new Map(viewOrders.map((v) => [Number(v.order_id), v]));
  let viewDiffs = 0;
  for (const o of orders) {
    const v = viewById.get(Number(o.id));
    const same = v && Number(v.customer_id) === Number(o.customer_id) && v.state === o.state && Number(v.order_total) === Number(o.total) && Number(v.order_version) === Number(o.version);
    if (!same) {
      viewDiffs++;
      say(`view: order ${o.id} is ${v ? `${v.state} v${v.order_version}` : 'missing'}, source ${o.state} v${o.version}`);
    }
  }
  for (const id of viewById.keys()) if (!byId.has(id)) say(`view: order ${id} has no source`);
  const viewCustomerById = new Map(viewCustomers.map((v) => [Number(v.customer_id), v]));
  for (const c of customers) {
    const v = viewCustomerById.get(Number(c.id));
    if (!v || v.name !== c.name || Number(v.credit_limit) !== Number(c.credit_limit)) {
      viewDiffs++;
      say(`view: customer ${c.id} is ${v ? `${v.name}/${v.credit_limit}` : 'missing'}`);
    }
  }
  unsettled += viewDiffs;

  // Nothing lost, nothing twice: keys, dead letters, outboxes.
  // The order service keeps each request's key and the order id it answered in Concord's idempotency table.
  const keys = await db.orders.rows<{ idem_key: string; response: string | null }>(
    `SELECT idem_key, response FROM ${db.orders.table('idempotency_keys')} WHERE scope = 'orders.create'`,
  );
  const keyOrder = new Map(keys.map((k) => [k.idem_key, Number(JSON.parse(k.response ?? 'null'))]));
  for (const [key, orderId] of client.answered) {
    if (keyOrder.get(key) !== orderId) say(`request ${key} was answered with order ${orderId}, but the key holds ${keyOrder.get(key) ?? 'nothing'}`);
    if (!byId.has(orderId)) say(`request ${key} was answered with order ${orderId}, which does not exist (lost)`);
  }
  const keyed = new Set(keyOrder.values());
  for (const id of byId.keys()) if (!keyed.has(id)) say(`order ${id} exists without the request key that made it`);
  for (const [key] of keyOrder) if (!client.answered.has(key) && !client.unanswered.has(key)) say(`key ${key} was never sent, yet holds an order`);
  if (keys.length !== orders.length) say(`${keys.length} request keys but ${orders.length} orders`);
  for (const [name, reader] of [['customers', db.customers], ['orders', db.orders], ['history', db.history]] as const) {
    const dead = await reader.rows<{ n: Num }>(`SELECT COUNT(*) AS n FROM ${reader.table('dead_letters')}`);
    if (Number(dead[0]!.n) > 0) say(`${name}: ${dead[0]!.n} dead-lettered messages`);
    if (name === 'history') continue; // the view publishes nothing
    const unsent = await reader.rows<{ n: Num }>(`SELECT COUNT(*) AS n FROM ${reader.table('outbox')} WHERE sent_at IS NULL`);
    if (Number(unsent[0]!.n) > 0) {
      unsettled++;
      say(`${name}: ${unsent[0]!.n} outbox messages never sent`);
    }
  }
  return { sagas: sagas.length, sagasByStatus, orders: orders.length, unsettled, violations };
}
