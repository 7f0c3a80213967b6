import { NotFoundError, SagaParticipant, type Reservation, isConcordError, type Broker, type Logger, type SqlStore, type Transaction } from '@concord/core';
import { IdAllocator, migrateService } from '@concord/example-customers-orders/db';
import { serviceSql } from '@concord/example-customers-orders/service-schema';
import { AssignPacket, ReleasePacket, ReservePacket, packetReservationId } from '../contracts.js';
import { isReservationLost, reservationRuntime, type ReservationRuntime } from '../reservation-runtime.js';
import { KitchenRepository, kitchenSchema } from './kitchen-repository.js';

export interface KitchenView {
  readonly kitchenId: number;
  readonly name: string;
  /** available + reserved + assigned = every packet ever stocked. */
  readonly packets: { readonly available: number; readonly reserved: number; readonly assigned: number };
}

export interface KitchenServiceOptions {
  readonly store: SqlStore;
  readonly broker: Broker;
  readonly logger: Logger;
  readonly reservationTtlMs: number;
}

const poolOf = (kitchenId: number) => `kitchen-${kitchenId}`;

/**
 * Owns kitchens and their food packets. Packets are a reservation pool per kitchen: the
 * Order service's saga reserves one (with a TTL), then assigns it, or releases it.
 */
export class KitchenService {
  private readonly kitchens: KitchenRepository;
  private readonly ids: IdAllocator;
  readonly runtime: ReservationRuntime;
  private readonly participant: SagaParticipant;

  constructor(private readonly options: KitchenServiceOptions) {
    const sql = serviceSql(options.store, kitchenSchema.name);
    this.kitchens = new KitchenRepository(sql);
    this.ids = new IdAllocator(options.store, sql, 'kitchen', 10);
    this.runtime = reservationRuntime(options.store, options.logger);
    const { reservations } = this.runtime;
    this.participant = new SagaParticipant({ name: 'kitchen-service', store: options.store, broker: options.broker, logger: options.logger, maxBatchSize: 1 })
      .handle(ReservePacket, async (tx, cmd, reply) => {
        if (!(await this.kitchens.find(tx.sql, cmd.kitchenId))) return reply.UnknownKitchen({});
        try {
          await reservations.try(tx, { reservationId: cmd.reservationId, pool: poolOf(cmd.kitchenId), quantity: 1, ttlMs: options.reservationTtlMs, ref: String(cmd.orderId) });
          return reply.PacketReserved({});
        } catch (error) {
          // Sold out, or the order was cancelled before this try arrived (hanging protection).
          if (isConcordError(error, 'RESERVATION_UNAVAILABLE') || isConcordError(error, 'RESERVATION_CANCELLED')) return reply.NoPacket({});
          throw error;
        }
      })
      .handle(AssignPacket, async (tx, cmd, reply) => {
        try {
          await reservations.confirm(tx, cmd.reservationId);
          return reply.PacketAssigned({});
        } catch (error) {
          if (isReservationLost(error)) return reply.PacketReservationLost({});
          throw error;
        }
      })
      .handle(ReleasePacket, async (tx, cmd, reply) => {
        await reservations.release(tx, cmd.reservationId);
        return reply.PacketReleased({});
      });
  }

  async start(): Promise<void> {
    await migrateService(this.options.store, kitchenSchema);
    await this.participant.start();
    this.runtime.timers.start();
  }

  async stop(): Promise<void> {
    await this.runtime.timers.stop();
    await this.participant.stop();
  }

  async createKitchen(name: string, packets: number): Promise<number> {
    const kitchenId = await this.ids.nextId();
    await this.options.store.transaction(async (tx) => {
      await this.kitchens.insert(tx.sql, kitchenId, name);
      await this.runtime.reservations.addStock(tx, poolOf(kitchenId), packets);
    });
    return kitchenId;
  }

  async addPackets(kitchenId: number, packets: number): Promise<KitchenView> {
    return this.options.store.transaction(async (tx) => {
      if (!(await this.kitchens.find(tx.sql, kitchenId))) throw new NotFoundError('kitchen', kitchenId);
      await this.runtime.reservations.addStock(tx, poolOf(kitchenId), packets);
      return (await this.view(tx, kitchenId))!;
    });
  }

  getKitchen(kitchenId: number): Promise<KitchenView | undefined> {
    return this.options.store.transaction((tx) => this.view(tx, kitchenId));
  }

  /** The reservation the Order service made for `orderId` here, if it reached this service. */
  packetReservation(orderId: number): Promise<Reservation | undefined> {
    return this.options.store.driver.run((exec) => this.runtime.reservations.get(exec, packetReservationId(orderId)));
  }

  private async view(tx: Transaction<unknown>, kitchenId: number): Promise<KitchenView | undefined> {
    const kitchen = await this.kitchens.find(tx.sql, kitchenId);
    if (!kitchen) return undefined;
    const pool = await this.runtime.reservations.pool(tx.sql, poolOf(kitchenId));
    return {
      kitchenId,
      name: kitchen.name,
      packets: { available: pool?.available ?? 0, reserved: pool?.reserved ?? 0, assigned: pool?.confirmed ?? 0 },
    };
  }
}
