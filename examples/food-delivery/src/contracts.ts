/**
 * The messages the Order, Kitchen and Delivery services exchange; nothing else is shared.
 * Reservation ids are assigned by the Order service (`order-<id>:packet`), so a retried or
 * late command always names the same reservation.
 */
import { defineCommand } from '@concord/core';
import { z } from 'zod';

export const KITCHEN_SERVICE = 'kitchen-service';
export const DELIVERY_SERVICE = 'delivery-service';

const id = z.number().int().positive();
const reservation = z.object({ orderId: id, reservationId: z.string().min(1) });
const empty = z.object({});

export const OrderState = z.enum(['PENDING', 'PLACED', 'REJECTED', 'CANCELLED', 'DELIVERED']);
export type OrderState = z.infer<typeof OrderState>;
export const RejectionReason = z.enum(['NO_PACKET', 'NO_AGENT', 'UNKNOWN_KITCHEN']);
export type RejectionReason = z.infer<typeof RejectionReason>;

export const packetReservationId = (orderId: number) => `order-${orderId}:packet`;
export const agentReservationId = (orderId: number) => `order-${orderId}:agent`;

// Kitchen: food packets of one kitchen, reserved by count.

export const ReservePacket = defineCommand('kitchen.ReservePacket', {
  channel: KITCHEN_SERVICE,
  schema: reservation.extend({ kitchenId: id }),
  replies: { PacketReserved: empty, NoPacket: empty, UnknownKitchen: empty },
  partitionKey: (p) => String(p.orderId),
});

export const AssignPacket = defineCommand('kitchen.AssignPacket', {
  channel: KITCHEN_SERVICE,
  schema: reservation,
  replies: { PacketAssigned: empty, PacketReservationLost: empty },
  partitionKey: (p) => String(p.orderId),
});

/** Gives the packet back whatever its state: reserved, assigned, or not yet reserved (then the reservation is blocked). */
export const ReleasePacket = defineCommand('kitchen.ReleasePacket', {
  channel: KITCHEN_SERVICE,
  schema: reservation,
  replies: { PacketReleased: empty },
  partitionKey: (p) => String(p.orderId),
});

// Delivery: agents, each reserved as a specific item.

export const ReserveAgent = defineCommand('delivery.ReserveAgent', {
  channel: DELIVERY_SERVICE,
  schema: reservation,
  replies: { AgentReserved: z.object({ agentId: id }), NoAgent: empty },
  partitionKey: (p) => String(p.orderId),
});

export const AssignAgent = defineCommand('delivery.AssignAgent', {
  channel: DELIVERY_SERVICE,
  schema: reservation,
  replies: { AgentAssigned: z.object({ agentId: id }), AgentReservationLost: empty },
  partitionKey: (p) => String(p.orderId),
});

/** Frees the agent: a reservation never confirmed is cancelled, an assignment ends. */
export const ReleaseAgent = defineCommand('delivery.ReleaseAgent', {
  channel: DELIVERY_SERVICE,
  schema: reservation,
  replies: { AgentReleased: empty },
  partitionKey: (p) => String(p.orderId),
});
