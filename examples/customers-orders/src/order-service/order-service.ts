import {
  IdempotencyKeys,
  MessageConsumer,
  NotFoundError,
  SagaOrchestrator,
  type Broker,
  type Instrumentation,
  type Logger,
  type SqlStore,
  type Transaction,
} from '@concord/core';
import type { SagaMode } from '../config.js';
import {
  CreditReservationFailed,
  CreditReserved,
  CustomerCreated,
  OrderApproved,
  OrderCancelled,
  OrderCreated,
  OrderRejected,
  type OrderSnapshot,
  type OrderState,
  type RejectionReason,
} from '../contracts.js';
import { IdAllocator, migrateService } from '../db.js';
import type { Cents } from '../money.js';
import { OrderLockedError, OrderNotCancellableError } from './order-errors.js';
import { serviceSql } from '../service-schema/index.js';
import { OrderRepository, orderSchema } from './order-repository.js';
import { cancelOrderSaga, createOrderSaga, type OrderLifecycle, type OrderSagas } from './order-sagas.js';

export interface OrderServiceOptions {
  readonly store: SqlStore;
  readonly broker: Broker;
  readonly mode: SagaMode;
  readonly logger: Logger;
  /** Metrics and tracing hooks (see @concord/observability); none by default. */
  readonly instrumentation?: Instrumentation;
  /**
   * When other processes change orders too (several instances), orders someone watches are
   * re-read this often so their changes reach `onOrderChange` here as well. Off by default.
   */
  readonly crossProcessPollMs?: number;
  /** How long an Idempotency-Key of `POST /orders` is remembered. Default 24 hours. */
  readonly idempotencyTtlMs?: number;
}

const FINAL: ReadonlySet<OrderState> = new Set(['APPROVED', 'REJECTED', 'CANCELLED']);
const EVENT_OF = { PENDING: OrderCreated, APPROVED: OrderApproved, REJECTED: OrderRejected, CANCELLED: OrderCancelled } as const;

export const createOrderSagaId = (orderId: number) => `create-order-${orderId}`;
export const cancelOrderSagaId = (orderId: number) => `cancel-order-${orderId}`;

/**
 * Owns orders. Hosts the saga orchestrator (as in Eventuate) in orchestration mode; reacts to
 * the customer service's events in choreography mode. Every state change publishes the
 * order's event through the outbox in the same transaction.
 */
export class OrderService implements OrderLifecycle {
  private readonly orders: OrderRepository;
  private readonly ids: IdAllocator;
  private readonly keys: IdempotencyKeys;
  private keySweeper: ReturnType<typeof setInterval> | undefined;
  private readonly listeners = new Set<(order: OrderSnapshot) => void>();
  private readonly watched = new Map<number, number>();
  /** The version each watched order had at the last poll. */
  private readonly seenVersions = new Map<number, number>();
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private polling = false;
  private readonly stops: Array<() => Promise<void>> = [];
  private readonly running: Array<{ isRunning(): boolean }> = [];
  readonly orchestrator: SagaOrchestrator<unknown, OrderSagas> | undefined;

  constructor(private readonly options: OrderServiceOptions) {
    const sql = serviceSql(options.store, orderSchema.name);
    this.orders = new OrderRepository(sql);
    this.ids = new IdAllocator(options.store, sql, 'order');
    this.keys = new IdempotencyKeys({
      dialect: options.store.driver.dialect,
      scope: 'orders.create',
      ttlMs: options.idempotencyTtlMs ?? 24 * 3_600_000,
    });
    if (options.mode === 'orchestration') {
      this.orchestrator = new SagaOrchestrator({
        name: 'order-service',
        store: options.store,
        broker: options.broker,
        sagas: [createOrderSaga(this), cancelOrderSaga(this)],
        logger: options.logger,
        instrumentation: options.instrumentation,
      });
    }
  }

  async start(): Promise<void> {
    const { store, broker, logger } = this.options;
    await migrateService(store, orderSchema);
    this.keySweeper = setInterval(() => void store.transaction((tx) => this.keys.purgeExpired(tx.sql)).catch(() => undefined), 3_600_000);
    this.keySweeper.unref?.();
    if (this.orchestrator) {
      await this.orchestrator.start();
      this.stops.push(() => this.orchestrator!.stop());
      this.running.push(this.orchestrator);
    } else {
      const consumer = new MessageConsumer({ name: 'order-service.choreography', store, broker, logger, instrumentation: this.options.instrumentation })
        .handle(CreditReserved, (tx, e) => this.approve(tx, e.orderId))
        .handle(CreditReservationFailed, (tx, e) => this.reject(tx, e.orderId, e.reason))
        .ignore(CustomerCreated);
      await consumer.start();
      this.stops.push(() => consumer.stop());
      this.running.push(consumer);
    }
  }

  /** Its orchestrator (or choreography consumer) is consuming: for /ready. */
  isRunning(): boolean {
    return this.running.length > 0 && this.running.every((r) => r.isRunning());
  }

  async stop(): Promise<void> {
    clearInterval(this.pollTimer);
    clearInterval(this.keySweeper);
    for (const stop of this.stops.splice(0).reverse()) await stop();
  }

  /** Every committed order change, in this process (and, for watched orders, in others: see crossProcessPollMs). */
  onOrderChange(listener: (order: OrderSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** What event streams hold on this service right now: for leak checks and tests. */
  get subscriptions(): { listeners: number; watchedOrders: number; polling: boolean } {
    return { listeners: this.listeners.size, watchedOrders: this.watched.size, polling: this.pollTimer !== undefined };
  }

  /** Marks an order as watched, so changes committed by other processes are noticed too. */
  watchOrder(orderId: number): () => void {
    if (this.options.crossProcessPollMs === undefined) return () => {};
    this.watched.set(orderId, (this.watched.get(orderId) ?? 0) + 1);
    this.pollTimer ??= setInterval(
      () => this.pollWatched().catch((error: unknown) => this.options.logger.warn({ err: error }, 'polling watched orders failed')),
      this.options.crossProcessPollMs,
    );
    return () => {
      const n = (this.watched.get(orderId) ?? 1) - 1;
      if (n > 0) this.watched.set(orderId, n);
      else this.watched.delete(orderId);
      if (this.watched.size === 0) {
        clearInterval(this.pollTimer);
        this.pollTimer = undefined;
      }
    };
  }

  /**
   * One statement for every watched order per tick, however many streams watch, outside a
   * transaction; only orders whose version moved since the last tick reach the listeners.
   */
  private async pollWatched(): Promise<void> {
    if (this.polling || this.watched.size === 0) return;
    this.polling = true;
    try {
      const orders = await this.options.store.read((exec) => this.orders.findMany(exec, [...this.watched.keys()]));
      for (const order of orders) {
        if (this.seenVersions.get(order.orderId) === order.version) continue;
        this.seenVersions.set(order.orderId, order.version);
        for (const listener of this.listeners) listener(order);
      }
      for (const id of this.seenVersions.keys()) if (!this.watched.has(id)) this.seenVersions.delete(id);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'polling watched orders failed');
    } finally {
      this.polling = false;
    }
  }

  /**
   * Creates an order (PENDING) and starts its saga in one local transaction. With an
   * idempotency key, a repeated request returns the first order's id and creates nothing; the
   * same key with another request (customer or total) throws IdempotencyKeyReusedError (422).
   */
  async createOrder(customerId: number, total: Cents, idempotencyKey?: string): Promise<number> {
    const orderId = await this.ids.nextId();
    return this.options.store.transaction(async (tx) => {
      const create = async () => {
        const data = { orderId, customerId, orderTotal: total };
        if (this.orchestrator) await this.orchestrator.begin('CreateOrder', data, { tx, sagaId: createOrderSagaId(orderId) });
        else await this.createPending(tx, orderId, customerId, total);
        return orderId;
      };
      if (idempotencyKey === undefined) return create();
      // The request as the service understood it: `{"amount":"12.34"}` and `12.34` are one request.
      return (await this.keys.claim(tx.sql, idempotencyKey, { customerId, orderTotal: total }, create)).value;
    });
  }

  /** Cancels an APPROVED order: 409 while its saga holds it (PENDING) or when it is already final. */
  cancelOrder(orderId: number): Promise<OrderSnapshot> {
    return this.options.store.transaction(async (tx) => {
      const order = await this.orders.find(tx.sql, orderId, true);
      if (!order) throw new NotFoundError('order', orderId);
      if (order.state === 'PENDING') throw new OrderLockedError(orderId);
      if (order.state !== 'APPROVED') throw new OrderNotCancellableError(orderId, order.state);
      if (this.orchestrator) {
        await this.orchestrator.begin('CancelOrder', { orderId, customerId: order.customerId }, { tx, sagaId: cancelOrderSagaId(orderId) });
      } else {
        await this.cancel(tx, orderId);
      }
      return (await this.orders.find(tx.sql, orderId))!;
    });
  }

  getOrder(orderId: number): Promise<OrderSnapshot | undefined> {
    // One statement: no transaction around it (on a server that is a BEGIN and a COMMIT less).
    return this.options.store.read((exec) => this.orders.find(exec, orderId));
  }

  listOrders(): Promise<OrderSnapshot[]> {
    return this.options.store.transaction((tx) => this.orders.list(tx.sql));
  }

  isFinal(state: OrderState): boolean {
    return FINAL.has(state);
  }

  // The order lifecycle: local steps of the sagas, and choreography handlers.

  async createPending(tx: Transaction<unknown>, orderId: number, customerId: number, total: number): Promise<void> {
    const order = await this.orders.insertPending(tx.sql, orderId, customerId, total, Date.now());
    await this.published(tx, order);
  }

  async approve(tx: Transaction<unknown>, orderId: number): Promise<void> {
    await this.change(tx, orderId, ['PENDING'], 'APPROVED', null);
  }

  async reject(tx: Transaction<unknown>, orderId: number, reason: RejectionReason): Promise<void> {
    await this.change(tx, orderId, ['PENDING'], 'REJECTED', reason);
  }

  async cancel(tx: Transaction<unknown>, orderId: number): Promise<void> {
    const order = await this.change(tx, orderId, ['APPROVED'], 'CANCELLED', null);
    if (!order) throw new OrderNotCancellableError(orderId, (await this.orders.find(tx.sql, orderId))?.state ?? 'unknown');
  }

  /** A repeated change (a redelivered event) finds the order already moved on, and does nothing. */
  private async change(
    tx: Transaction<unknown>,
    orderId: number,
    from: readonly OrderState[],
    to: OrderState,
    reason: RejectionReason | null,
  ): Promise<OrderSnapshot | undefined> {
    const order = await this.orders.transition(tx.sql, orderId, from, to, reason, Date.now());
    if (order) await this.published(tx, order);
    return order;
  }

  private async published(tx: Transaction<unknown>, order: OrderSnapshot): Promise<void> {
    await tx.outbox.send(EVENT_OF[order.state], order);
    tx.afterCommit(() => {
      for (const listener of this.listeners) listener(order);
    });
  }
}
