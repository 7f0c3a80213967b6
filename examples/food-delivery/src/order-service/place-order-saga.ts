import { defineSaga, fail, ok, type Transaction } from '@concord/core';
import { z } from 'zod';
import {
  AssignAgent,
  AssignPacket,
  ReleaseAgent,
  ReleasePacket,
  ReserveAgent,
  ReservePacket,
  agentReservationId,
  packetReservationId,
  type RejectionReason,
} from '../contracts.js';

/** What the saga needs from the order service: local steps in the saga's own transaction. */
export interface FoodOrderLifecycle {
  createPending(tx: Transaction<unknown>, orderId: number, kitchenId: number): Promise<void>;
  place(tx: Transaction<unknown>, orderId: number, agentId: number): Promise<void>;
  reject(tx: Transaction<unknown>, orderId: number, reason: RejectionReason): Promise<void>;
}

export const PlaceOrderData = z.object({
  orderId: z.number().int().positive(),
  kitchenId: z.number().int().positive(),
  agentId: z.number().int().positive().nullable(),
});
export type PlaceOrderData = z.infer<typeof PlaceOrderData>;

const packet = (orderId: number) => ({ orderId, reservationId: packetReservationId(orderId) });
const agent = (orderId: number) => ({ orderId, reservationId: agentReservationId(orderId) });

/**
 * Seed 002: reserve a packet and an agent (each with a TTL), then assign both; the order is
 * PLACED only after both assignments. Any refusal releases what was taken and rejects the
 * order. The two reservations run in parallel (a step group); assigning the agent is the
 * pivot: after it, placing the order only retries. A failure of Concord's own (a timeout)
 * rejects the order as NO_PACKET.
 */
export function placeOrderSaga(orders: FoodOrderLifecycle) {
  return defineSaga('PlaceFoodOrder', PlaceOrderData, { failures: ['NO_PACKET', 'NO_AGENT', 'UNKNOWN_KITCHEN'] })
    .step('create-order', {
      local: (tx, d) => orders.createPending(tx, d.orderId, d.kitchenId),
      compensate: {
        local: (tx, d, why) => orders.reject(tx, d.orderId, why === 'NO_AGENT' || why === 'UNKNOWN_KITCHEN' ? why : 'NO_PACKET'),
      },
    })
    // Both reservations at once; when one is refused, the other is released.
    .parallel('reserve', (g) =>
      g
        .branch('packet', {
          invoke: ReservePacket.with((d) => ({ ...packet(d.orderId), kitchenId: d.kitchenId })),
          onReply: { PacketReserved: ok(), NoPacket: fail('NO_PACKET'), UnknownKitchen: fail('UNKNOWN_KITCHEN') },
          compensate: { invoke: ReleasePacket.with((d) => packet(d.orderId)) },
        })
        .branch('agent', {
          invoke: ReserveAgent.with((d) => agent(d.orderId)),
          onReply: { AgentReserved: ok(), NoAgent: fail('NO_AGENT') },
          compensate: { invoke: ReleaseAgent.with((d) => agent(d.orderId)) },
        }),
    )
    .step('assign-packet', {
      invoke: AssignPacket.with((d) => packet(d.orderId)),
      onReply: { PacketAssigned: ok(), PacketReservationLost: fail('NO_PACKET') },
    })
    .step('assign-agent', {
      kind: 'pivot',
      invoke: AssignAgent.with((d) => agent(d.orderId)),
      onReply: { AgentReservationLost: fail('NO_AGENT'), AgentAssigned: (_tx, d, r) => ({ ...d, agentId: r.agentId }) },
    })
    .step('place-order', { kind: 'retriable', local: (tx, d) => orders.place(tx, d.orderId, d.agentId!) })
    .build();
}
