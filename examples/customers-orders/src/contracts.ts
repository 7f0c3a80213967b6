/**
 * The messages the services exchange. Each service imports this module; nothing else is
 * shared between them.
 */
import { defineCommand, defineEvent } from '@concord/core';
import { z } from 'zod';
import { Money } from './money.js';

export const CUSTOMER_SERVICE = 'customer-service';
export const CUSTOMER_EVENTS = 'customer-events';
export const ORDER_EVENTS = 'order-events';

const id = z.number().int().positive();
/** On the wire money travels as cents, an integer. */
const cents = z.number().int().nonnegative();

export const OrderState = z.enum(['PENDING', 'APPROVED', 'REJECTED', 'CANCELLED']);
export type OrderState = z.infer<typeof OrderState>;
export const RejectionReason = z.enum(['INSUFFICIENT_CREDIT', 'UNKNOWN_CUSTOMER']);
export type RejectionReason = z.infer<typeof RejectionReason>;

// Commands (orchestration)

export const ReleaseCredit = defineCommand('customer.ReleaseCredit', {
  channel: CUSTOMER_SERVICE,
  schema: z.object({ customerId: id, orderId: id }),
  replies: { CreditReleased: z.object({}) },
  partitionKey: (p) => String(p.customerId),
});

export const ReserveCredit = defineCommand('customer.ReserveCredit', {
  channel: CUSTOMER_SERVICE,
  schema: z.object({ customerId: id, orderId: id, amount: cents }),
  replies: {
    CreditReserved: z.object({}),
    CustomerNotFound: z.object({}),
    CreditLimitExceeded: z.object({ available: cents }),
  },
  partitionKey: (p) => String(p.customerId),
});

// Events

export const CustomerCreated = defineEvent('customer.CustomerCreated', {
  channel: CUSTOMER_EVENTS,
  schema: z.object({ customerId: id, name: z.string(), creditLimit: cents }),
  partitionKey: (p) => String(p.customerId),
});

/** Choreography: the customer service's answers to OrderCreated. */
export const CreditReserved = defineEvent('customer.CreditReserved', {
  channel: CUSTOMER_EVENTS,
  schema: z.object({ customerId: z.number().int(), orderId: id }),
  partitionKey: (p) => String(p.orderId),
});
export const CreditReservationFailed = defineEvent('customer.CreditReservationFailed', {
  channel: CUSTOMER_EVENTS,
  schema: z.object({ customerId: z.number().int(), orderId: id, reason: RejectionReason }),
  partitionKey: (p) => String(p.orderId),
});

/** Every order event carries the whole order (an enriched event) and its version. */
const orderSnapshot = z.object({
  orderId: id,
  customerId: z.number().int(),
  orderTotal: cents,
  state: OrderState,
  rejectionReason: RejectionReason.nullable(),
  version: z.number().int().positive(),
});
export type OrderSnapshot = z.infer<typeof orderSnapshot>;

const orderEvent = <T extends string>(type: T) =>
  defineEvent(type, { channel: ORDER_EVENTS, schema: orderSnapshot, partitionKey: (p) => String(p.orderId) });

export const OrderCreated = orderEvent('order.OrderCreated');
export const OrderApproved = orderEvent('order.OrderApproved');
export const OrderRejected = orderEvent('order.OrderRejected');
export const OrderCancelled = orderEvent('order.OrderCancelled');

export { Money };
