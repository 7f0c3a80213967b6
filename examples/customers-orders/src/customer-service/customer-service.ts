import { MessageConsumer, SagaParticipant, type Broker, type Instrumentation, type Logger, type SqlStore } from '@concord/core';
import {
  CreditReservationFailed,
  CreditReserved,
  CustomerCreated,
  OrderApproved,
  OrderCancelled,
  OrderCreated,
  OrderRejected,
  ReleaseCredit,
  ReserveCredit,
} from '../contracts.js';
import { IdAllocator, migrateService } from '../db.js';
import type { Cents } from '../money.js';
import type { SagaMode } from '../config.js';
import { serviceSql } from '../service-schema/index.js';
import { CustomerRepository, customerSchema, type Customer } from './customer-repository.js';

export interface CustomerServiceOptions {
  readonly store: SqlStore;
  readonly broker: Broker;
  readonly mode: SagaMode;
  readonly logger: Logger;
  /** Metrics and tracing hooks (see @concord/observability); none by default. */
  readonly instrumentation?: Instrumentation;
}

/**
 * Owns customers and their credit. In orchestration mode it is a saga participant answering
 * ReserveCredit/ReleaseCredit; in choreography mode it reacts to order events instead.
 */
export class CustomerService {
  private readonly customers: CustomerRepository;
  private readonly ids: IdAllocator;
  private readonly stops: Array<() => Promise<void>> = [];
  private readonly running: Array<{ isRunning(): boolean }> = [];

  constructor(private readonly options: CustomerServiceOptions) {
    const sql = serviceSql(options.store, customerSchema.name);
    this.customers = new CustomerRepository(sql);
    this.ids = new IdAllocator(options.store, sql, 'customer');
  }

  async start(): Promise<void> {
    const { store, broker, logger, instrumentation } = this.options;
    await migrateService(store, customerSchema);
    if (this.options.mode === 'orchestration') {
      const participant = new SagaParticipant({ name: 'customer-service', store, broker, logger, instrumentation })
        .handle(ReserveCredit, async (tx, cmd, reply) => {
          const outcome = await this.customers.reserve(tx.sql, cmd.customerId, cmd.orderId, cmd.amount);
          if (outcome.kind === 'unknown-customer') return reply.CustomerNotFound({});
          if (outcome.kind === 'insufficient') return reply.CreditLimitExceeded({ available: outcome.available });
          return reply.CreditReserved({});
        })
        .handle(ReleaseCredit, async (tx, cmd, reply) => {
          await this.customers.release(tx.sql, cmd.orderId);
          return reply.CreditReleased({});
        });
      await participant.start();
      this.stops.push(() => participant.stop());
      this.running.push(participant);
    } else {
      const consumer = new MessageConsumer({ name: 'customer-service.choreography', store, broker, logger, instrumentation })
        .handle(OrderCreated, async (tx, order) => {
          const outcome = await this.customers.reserve(tx.sql, order.customerId, order.orderId, order.orderTotal);
          if (outcome.kind === 'reserved') {
            await tx.outbox.send(CreditReserved, { customerId: order.customerId, orderId: order.orderId });
          } else {
            const reason = outcome.kind === 'unknown-customer' ? 'UNKNOWN_CUSTOMER' : 'INSUFFICIENT_CREDIT';
            await tx.outbox.send(CreditReservationFailed, { customerId: order.customerId, orderId: order.orderId, reason });
          }
        })
        .handle(OrderCancelled, async (tx, order) => {
          await this.customers.release(tx.sql, order.orderId);
        })
        // The rest of order-events is not this service's business; anything else is parked.
        .ignore(OrderApproved, OrderRejected);
      await consumer.start();
      this.stops.push(() => consumer.stop());
      this.running.push(consumer);
    }
  }

  /** Its participant (or choreography consumer) is consuming: for /ready. */
  isRunning(): boolean {
    return this.running.length > 0 && this.running.every((r) => r.isRunning());
  }

  async stop(): Promise<void> {
    for (const stop of this.stops.splice(0).reverse()) await stop();
  }

  async createCustomer(name: string, creditLimit: Cents): Promise<Customer> {
    const id = await this.ids.nextId();
    return this.options.store.transaction(async (tx) => {
      const customer = await this.customers.create(tx.sql, id, name, creditLimit);
      await tx.outbox.send(CustomerCreated, { customerId: customer.customerId, name, creditLimit });
      return customer;
    });
  }

  getCustomer(customerId: number): Promise<Customer | undefined> {
    // One statement: no transaction around it (on a server that is a BEGIN and a COMMIT less).
    return this.options.store.read((exec) => this.customers.find(exec, customerId));
  }

  listCustomers(): Promise<Customer[]> {
    return this.options.store.transaction((tx) => this.customers.list(tx.sql));
  }
}
