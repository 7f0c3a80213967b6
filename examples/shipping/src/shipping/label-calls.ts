import { defineRemoteCall, type RemoteCallRecord, type Transaction } from '@concord/core';
import type { CarrierClient } from './carrier-client.js';
import type { ShipmentRepository, ShipmentState } from './shipment-repository.js';

export const LABEL_CALL = 'carrier.label';

export interface LabelPayload {
  readonly shipmentId: number;
  readonly orderId: number;
}

/** The caller-assigned key Shipping sends the carrier: one label per shipment, ever. */
export const labelKey = (shipmentId: number) => `shipment-${shipmentId}`;

/** Where each settled intent takes its shipment, in the transaction that records the outcome. */
const SHIPMENT_AFTER: Partial<
  Record<RemoteCallRecord['state'], { from: ShipmentState[]; to: ShipmentState }>
> = {
  created: { from: ['LABEL_REQUESTED'], to: 'LABEL_CREATED' },
  create_failed: { from: ['LABEL_REQUESTED'], to: 'LABEL_FAILED' },
  deleted: { from: ['CANCEL_REQUESTED'], to: 'CANCELLED' },
};

/** Creating and voiding carrier labels as tracked remote calls. */
export function labelCalls(carrier: CarrierClient, shipments: ShipmentRepository) {
  return defineRemoteCall<LabelPayload>({
    type: LABEL_CALL,
    create: async (call) => ({ remoteId: await carrier.createLabel(call.key, call.signal) }),
    // A cancel may come before the create's answer ever did: the key finds the label either way.
    delete: async (call) => {
      const labelId = call.remoteId ?? (await carrier.createLabel(call.key, call.signal));
      await carrier.voidLabel(labelId, call.signal);
      return { remoteId: labelId };
    },
    onSettled: async (tx: Transaction<unknown>, record) => {
      const move = SHIPMENT_AFTER[record.state];
      if (move)
        await shipments.transition(
          tx.sql,
          record.payload.shipmentId,
          move.from,
          move.to,
          record.remoteId,
          Date.now(),
        );
    },
  });
}
