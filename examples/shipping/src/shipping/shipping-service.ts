import {
  IdempotencyKeys,
  NotFoundError,
  RemoteCallConsolidation,
  RemoteCallTracker,
  type ConsolidationReport,
  type Logger,
  type SqlStore,
} from '@concord/core';
import { migrateServiceSchema, serviceSql } from '@concord/example-customers-orders/service-schema';
import type { CarrierClient } from './carrier-client.js';
import { LABEL_CALL, labelCalls, labelKey, type LabelPayload } from './label-calls.js';
import { ShipmentRepository, shipmentSchema, type Shipment } from './shipment-repository.js';

export interface ShippingServiceOptions {
  readonly store: SqlStore;
  readonly carrier: CarrierClient;
  readonly logger: Logger;
  readonly carrierTimeoutMs: number;
  readonly maxAttempts: number;
  readonly staleAfterMs: number;
  readonly idempotencyTtlMs: number;
  /** Runs consolidation (with repairs) this often; 0: only on request. */
  readonly consolidationIntervalMs: number;
}

/**
 * Owns shipments. Every carrier call is a tracked remote call: the intent and the shipment
 * commit together, the call runs after commit with the shipment's key, and the outcome moves
 * the shipment in the same transaction that records it.
 */
export class ShippingService {
  readonly tracker: RemoteCallTracker;
  readonly consolidation: RemoteCallConsolidation;
  private readonly shipments: ShipmentRepository;
  private readonly keys: IdempotencyKeys;
  private consolidating: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly options: ShippingServiceOptions) {
    const { store, carrier, logger } = options;
    this.shipments = new ShipmentRepository(serviceSql(store, shipmentSchema.name));
    this.keys = new IdempotencyKeys({
      dialect: store.driver.dialect,
      scope: 'shipments.create',
      ttlMs: options.idempotencyTtlMs,
    });
    this.tracker = new RemoteCallTracker({
      store,
      calls: [labelCalls(carrier, this.shipments)],
      logger,
      callTimeoutMs: options.carrierTimeoutMs,
      maxAttempts: options.maxAttempts,
      backoff: { initialMs: 50, maxMs: 2_000, multiplier: 2, jitter: 0.5 },
      concurrency: 32,
    });
    this.consolidation = new RemoteCallConsolidation({
      tracker: this.tracker,
      type: LABEL_CALL,
      staleAfterMs: options.staleAfterMs,
      listRemote: async () =>
        (await carrier.listLabels()).map((l) => ({ remoteId: l.labelId, key: l.key, active: !l.voided })),
      voidRemote: (object) => retry(() => carrier.voidLabel(object.remoteId), 5),
    });
  }

  async start(): Promise<void> {
    await this.options.store.migrate();
    await migrateServiceSchema(this.options.store, shipmentSchema);
    // Every intent left unfinished by the last run (a crash, a stop) resumes here.
    this.tracker.start();
    if (this.options.consolidationIntervalMs > 0) {
      this.consolidating = setInterval(
        () =>
          void this.consolidate(true).catch((error: unknown) =>
            this.options.logger.warn({ err: error }, 'consolidation failed'),
          ),
        this.options.consolidationIntervalMs,
      );
      this.consolidating.unref?.();
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.consolidating);
    await this.tracker.stop();
  }

  /** A shipment (LABEL_REQUESTED) and the intent of its label, in one transaction. */
  async createShipment(orderId: number, idempotencyKey?: string): Promise<number> {
    return this.options.store.transaction(async (tx) => {
      const create = async () => {
        const shipmentId = await this.shipments.nextId(tx.sql);
        await this.shipments.insert(tx.sql, shipmentId, orderId, Date.now());
        await this.tracker.request<LabelPayload>(tx, {
          type: LABEL_CALL,
          key: labelKey(shipmentId),
          operation: 'create',
          payload: { shipmentId, orderId },
        });
        return shipmentId;
      };
      if (idempotencyKey === undefined) return create();
      return (await this.keys.claim(tx.sql, idempotencyKey, { orderId }, create)).value;
    });
  }

  /**
   * Asks the carrier to void the label (CANCEL_REQUESTED, then CANCELLED once voided). A
   * shipment whose label the carrier refused is cancelled at once: there is nothing to void.
   * Cancelling again is harmless.
   */
  async cancelShipment(shipmentId: number): Promise<Shipment> {
    return this.options.store.transaction(async (tx) => {
      const shipment = await this.shipments.find(tx.sql, shipmentId, true);
      if (!shipment) throw new NotFoundError('shipment', shipmentId);
      if (shipment.state === 'CANCEL_REQUESTED' || shipment.state === 'CANCELLED') return shipment;
      await this.shipments.transition(
        tx.sql,
        shipmentId,
        [shipment.state],
        'CANCEL_REQUESTED',
        null,
        Date.now(),
      );
      await this.tracker.request<LabelPayload>(tx, {
        type: LABEL_CALL,
        key: labelKey(shipmentId),
        operation: 'delete',
        payload: { shipmentId, orderId: shipment.orderId },
      });
      return (await this.shipments.find(tx.sql, shipmentId))!;
    });
  }

  getShipment(shipmentId: number): Promise<Shipment | undefined> {
    return this.options.store.transaction((tx) => this.shipments.find(tx.sql, shipmentId));
  }

  listShipments(limit = 1000): Promise<Shipment[]> {
    return this.options.store.transaction((tx) => this.shipments.list(tx.sql, limit));
  }

  /** Compares Shipping's intents with the carrier's labels; with `repair`, voids leaks and finishes what it can prove. */
  consolidate(repair: boolean): Promise<ConsolidationReport> {
    return this.consolidation.run({ repair });
  }
}

/** The carrier loses answers: a void (idempotent) is simply sent again. */
async function retry<T>(fn: () => Promise<T>, times: number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= times) throw error;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}
