import { SagaParticipant, type Reservation, isConcordError, type Broker, type Logger, type SqlStore, type Transaction } from '@concord/core';
import { IdAllocator, migrateService } from '@concord/example-customers-orders/db';
import { serviceSql } from '@concord/example-customers-orders/service-schema';
import { AssignAgent, ReleaseAgent, ReserveAgent, agentReservationId } from '../contracts.js';
import { isReservationLost, reservationRuntime, type ReservationRuntime } from '../reservation-runtime.js';
import { AgentRepository, agentSchema } from './agent-repository.js';

export type AgentState = 'AVAILABLE' | 'RESERVED' | 'ASSIGNED';

export interface AgentView {
  readonly agentId: number;
  readonly name: string;
  readonly state: AgentState;
  /** The order the agent is reserved or assigned for, else null. */
  readonly orderId: number | null;
}

export interface DeliveryServiceOptions {
  readonly store: SqlStore;
  readonly broker: Broker;
  readonly logger: Logger;
  readonly reservationTtlMs: number;
}

const AGENTS = 'agents';

/** Owns delivery agents: each one an item of the `agents` pool, reserved for one order at a time. */
export class DeliveryService {
  private readonly agents: AgentRepository;
  private readonly ids: IdAllocator;
  readonly runtime: ReservationRuntime;
  private readonly participant: SagaParticipant;

  constructor(private readonly options: DeliveryServiceOptions) {
    const sql = serviceSql(options.store, agentSchema.name);
    this.agents = new AgentRepository(sql);
    this.ids = new IdAllocator(options.store, sql, 'agent', 10);
    this.runtime = reservationRuntime(options.store, options.logger);
    const { reservations } = this.runtime;
    this.participant = new SagaParticipant({ name: 'delivery-service', store: options.store, broker: options.broker, logger: options.logger, maxBatchSize: 1 })
      .handle(ReserveAgent, async (tx, cmd, reply) => {
        try {
          const r = await reservations.try(tx, { reservationId: cmd.reservationId, pool: AGENTS, anyItem: true, ttlMs: options.reservationTtlMs, ref: String(cmd.orderId) });
          return reply.AgentReserved({ agentId: Number(r.itemId) });
        } catch (error) {
          if (isConcordError(error, 'RESERVATION_UNAVAILABLE') || isConcordError(error, 'RESERVATION_CANCELLED')) return reply.NoAgent({});
          throw error;
        }
      })
      .handle(AssignAgent, async (tx, cmd, reply) => {
        try {
          const r = await reservations.confirm(tx, cmd.reservationId);
          return reply.AgentAssigned({ agentId: Number(r.itemId) });
        } catch (error) {
          if (isReservationLost(error)) return reply.AgentReservationLost({});
          throw error;
        }
      })
      .handle(ReleaseAgent, async (tx, cmd, reply) => {
        await reservations.release(tx, cmd.reservationId);
        return reply.AgentReleased({});
      });
  }

  async start(): Promise<void> {
    await migrateService(this.options.store, agentSchema);
    await this.participant.start();
    this.runtime.timers.start();
  }

  async stop(): Promise<void> {
    await this.runtime.timers.stop();
    await this.participant.stop();
  }

  async createAgent(name: string): Promise<number> {
    const agentId = await this.ids.nextId();
    await this.options.store.transaction(async (tx) => {
      await this.agents.insert(tx.sql, agentId, name);
      await this.runtime.reservations.addItems(tx, AGENTS, [String(agentId)]);
    });
    return agentId;
  }

  getAgent(agentId: number): Promise<AgentView | undefined> {
    return this.options.store.transaction((tx) => this.view(tx, agentId));
  }

  /** The reservation the Order service made for `orderId` here, if it reached this service. */
  agentReservation(orderId: number): Promise<Reservation | undefined> {
    return this.options.store.driver.run((exec) => this.runtime.reservations.get(exec, agentReservationId(orderId)));
  }

  private async view(tx: Transaction<unknown>, agentId: number): Promise<AgentView | undefined> {
    const agent = await this.agents.find(tx.sql, agentId);
    if (!agent) return undefined;
    const { reservations } = this.runtime;
    const item = await reservations.item(tx.sql, AGENTS, String(agentId));
    const held = item?.reservationId ? await reservations.get(tx.sql, item.reservationId) : undefined;
    const state: AgentState = item?.state === 'CONFIRMED' ? 'ASSIGNED' : item?.state === 'RESERVED' ? 'RESERVED' : 'AVAILABLE';
    return { agentId, name: agent.name, state, orderId: state !== 'AVAILABLE' && held?.ref ? Number(held.ref) : null };
  }
}
