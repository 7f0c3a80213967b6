import { SagaParticipant, type Broker, type Logger, type SqlStore } from '@concord/core';
import { CustomerRepository, customerSchema } from '../src/customer-service/customer-repository.js';
import { ReleaseCredit, ReserveCredit } from '../src/contracts.js';
import { IdAllocator, migrateService } from '../src/db.js';
import { serviceSql } from '../src/service-schema/index.js';
import type { CustomerSide } from './create-order-scenario.js';

/**
 * A copy of the customer service's saga participant with a planted bug, for the explorer to
 * find: it answers CreditReserved in the handler's transaction but makes the reservation
 * after that transaction commits, in one of its own (the "do the work after the commit"
 * dual write). A crash between the two commits loses the reservation while the order is
 * approved on the strength of the reply.
 */
export class BuggyCustomerService implements CustomerSide {
  private readonly customers: CustomerRepository;
  private readonly ids: IdAllocator;
  private participant: SagaParticipant | undefined;

  constructor(private readonly options: { store: SqlStore; broker: Broker; logger: Logger }) {
    const sql = serviceSql(options.store, customerSchema.name);
    this.customers = new CustomerRepository(sql);
    this.ids = new IdAllocator(options.store, sql, 'customer');
  }

  async start(): Promise<void> {
    const { store, broker, logger } = this.options;
    await migrateService(store, customerSchema);
    this.participant = new SagaParticipant({ name: 'customer-service', store, broker, logger })
      .handle(ReserveCredit, async (tx, cmd, reply) => {
        const customer = await this.customers.find(tx.sql, cmd.customerId);
        if (!customer) return reply.CustomerNotFound({});
        if (customer.availableCredit < cmd.amount) return reply.CreditLimitExceeded({ available: customer.availableCredit });
        // THE PLANTED BUG: the reservation is not made in `tx`.
        tx.afterCommit(() => {
          store.transaction((own) => this.customers.reserve(own.sql, cmd.customerId, cmd.orderId, cmd.amount)).catch(() => undefined);
        });
        return reply.CreditReserved({});
      })
      .handle(ReleaseCredit, async (tx, cmd, reply) => {
        await this.customers.release(tx.sql, cmd.orderId);
        return reply.CreditReleased({});
      });
    await this.participant.start();
  }

  async stop(): Promise<void> {
    await this.participant?.stop();
  }

  async createCustomer(name: string, creditLimit: number): Promise<{ customerId: number }> {
    const id = await this.ids.nextId();
    return this.options.store.transaction((tx) => this.customers.create(tx.sql, id, name, creditLimit));
  }
}
