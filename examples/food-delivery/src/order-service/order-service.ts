import { NotFoundError, SagaOrchestrator, type Broker, type Logger, type SqlStore, type Transaction } from '@concord/core';
import { IdAllocator, migrateService } from '@concord/example-customers-orders/db';
import { serviceSql } from '@concord/example-customers-orders/service-schema';
import { ReleaseAgent, ReleasePacket, agentReservationId, packetReservationId, type OrderState, type RejectionReason } from '../contracts.js';
import { IdempotencyKeyReusedError, OrderStateConflictError } from './order-errors.js';
import { OrderRepository, orderSchema, type FoodOrder } from './order-repository.js';
import { placeOrderSaga, type FoodOrderLifecycle } from './place-order-saga.js';

export interface OrderServiceOptions {
  readonly store: SqlStore;
  readonly broker: Broker;
  readonly logger: Logger;
}

/** States after which a waiting client has its answer (PLACED included). */
const SETTLED: ReadonlySet<OrderState> = new Set(['PLACED', 'REJECTED', 'CANCELLED', 'DELIVERED']);

export const placeOrderSagaId = (orderId: number) => `place-order-${orderId}`;

/**
 * Owns food orders and runs the PlaceFoodOrder saga. Cancel and delivered are local changes
 * that send the release commands through the outbox in the same transaction; a release that
 * reaches a service before the saga's reservation blocks it (hanging protection), so a
 * cancel of a PENDING order always wins over the saga still in flight.
 */
export class OrderService implements FoodOrderLifecycle {
  private readonly orders: OrderRepository;
  private readonly ids: IdAllocator;
  private readonly listeners = new Set<(order: FoodOrder) => void>();
  readonly orchestrator: SagaOrchestrator<unknown, ReturnType<typeof placeOrderSaga>>;

  constructor(private readonly options: OrderServiceOptions) {
    const sql = serviceSql(options.store, orderSchema.name);
    this.orders = new OrderRepository(sql);
    this.ids = new IdAllocator(options.store, sql, 'food-order');
    this.orchestrator = new SagaOrchestrator({
      name: 'food-order-service',
      store: options.store,
      broker: options.broker,
      sagas: [placeOrderSaga(this)],
      logger: options.logger,
      // Transient failures of a step's command are retried by the participants' consumers;
      // a saga step itself is retried this many times before it is STUCK for a person.
      maxAttempts: 10,
    });
  }

  async start(): Promise<void> {
    await migrateService(this.options.store, orderSchema);
    await this.orchestrator.start();
  }

  async stop(): Promise<void> {
    await this.orchestrator.stop();
  }

  onOrderChange(listener: (order: FoodOrder) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  isSettled(state: OrderState): boolean {
    return SETTLED.has(state);
  }

  /** Creates a PENDING order and starts its saga in one transaction; a repeated key returns the first order. */
  async placeOrder(kitchenId: number, idempotencyKey?: string): Promise<number> {
    const orderId = await this.ids.nextId();
    return this.options.store.transaction(async (tx) => {
      if (idempotencyKey !== undefined) {
        const earlier = await this.orders.claimKey(tx.sql, idempotencyKey, orderId, kitchenId);
        if (earlier && earlier.kitchenId !== kitchenId) throw new IdempotencyKeyReusedError(idempotencyKey);
        if (earlier) return earlier.orderId;
      }
      await this.orchestrator.begin('PlaceFoodOrder', { orderId, kitchenId, agentId: null }, { tx, sagaId: placeOrderSagaId(orderId) });
      return orderId;
    });
  }

  getOrder(orderId: number): Promise<FoodOrder | undefined> {
    return this.options.store.transaction((tx) => this.orders.find(tx.sql, orderId));
  }

  countByState(): Promise<Record<string, number>> {
    return this.options.store.transaction((tx) => this.orders.countByState(tx.sql));
  }

  /** PENDING or PLACED -> CANCELLED, releasing its packet and agent; 409 otherwise. */
  cancelOrder(orderId: number): Promise<FoodOrder> {
    return this.options.store.transaction(async (tx) => {
      const order = await this.orders.find(tx.sql, orderId, true);
      if (!order) throw new NotFoundError('order', orderId);
      const cancelled = await this.change(tx, orderId, ['PENDING', 'PLACED'], 'CANCELLED', {});
      if (!cancelled) throw new OrderStateConflictError(orderId, order.state, 'cancel');
      const ids = { orderId, packet: packetReservationId(orderId), agent: agentReservationId(orderId) };
      await tx.outbox.send(ReleasePacket, { orderId, reservationId: ids.packet });
      await tx.outbox.send(ReleaseAgent, { orderId, reservationId: ids.agent });
      return cancelled;
    });
  }

  /** PLACED -> DELIVERED: the agent is free again; the packet stays assigned (it was eaten). */
  markDelivered(orderId: number): Promise<FoodOrder> {
    return this.options.store.transaction(async (tx) => {
      const order = await this.orders.find(tx.sql, orderId, true);
      if (!order) throw new NotFoundError('order', orderId);
      const delivered = await this.change(tx, orderId, ['PLACED'], 'DELIVERED', {});
      if (!delivered) throw new OrderStateConflictError(orderId, order.state, 'mark it delivered');
      await tx.outbox.send(ReleaseAgent, { orderId, reservationId: agentReservationId(orderId) });
      return delivered;
    });
  }

  // Local steps of the saga.

  async createPending(tx: Transaction<unknown>, orderId: number, kitchenId: number): Promise<void> {
    this.published(tx, await this.orders.insertPending(tx.sql, orderId, kitchenId, Date.now()));
  }

  async place(tx: Transaction<unknown>, orderId: number, agentId: number): Promise<void> {
    // A cancelled order stays cancelled: its cancel already sent the releases.
    await this.change(tx, orderId, ['PENDING'], 'PLACED', { agentId });
  }

  async reject(tx: Transaction<unknown>, orderId: number, reason: RejectionReason): Promise<void> {
    await this.change(tx, orderId, ['PENDING'], 'REJECTED', { rejectionReason: reason });
  }

  private async change(
    tx: Transaction<unknown>,
    orderId: number,
    from: readonly OrderState[],
    to: OrderState,
    change: { rejectionReason?: RejectionReason; agentId?: number | null },
  ): Promise<FoodOrder | undefined> {
    const order = await this.orders.transition(tx.sql, orderId, from, to, change, Date.now());
    if (order) this.published(tx, order);
    return order;
  }

  private published(tx: Transaction<unknown>, order: FoodOrder): void {
    tx.afterCommit(() => {
      for (const listener of this.listeners) listener(order);
    });
  }
}
