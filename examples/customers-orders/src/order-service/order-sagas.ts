import { defineSaga, fail, ok, type Transaction } from '@concord/core';
import { z } from 'zod';
import { ReleaseCredit, ReserveCredit, type RejectionReason } from '../contracts.js';

/** What the sagas need from the order service: local steps run in the saga's own transaction. */
export interface OrderLifecycle {
  createPending(tx: Transaction<unknown>, orderId: number, customerId: number, total: number): Promise<void>;
  approve(tx: Transaction<unknown>, orderId: number): Promise<void>;
  reject(tx: Transaction<unknown>, orderId: number, reason: RejectionReason): Promise<void>;
  cancel(tx: Transaction<unknown>, orderId: number): Promise<void>;
}

export const CreateOrderData = z.object({
  orderId: z.number().int().positive(),
  customerId: z.number().int(),
  orderTotal: z.number().int().nonnegative(),
});
export type CreateOrderData = z.infer<typeof CreateOrderData>;

/**
 * Eventuate's CreateOrderSaga: the order is created PENDING (its state is the semantic lock),
 * credit is reserved (the pivot), then the order is approved (retriable). A refused
 * reservation rejects the order with the reason (any other failure, a timeout say, counts as
 * insufficient credit).
 */
export function createOrderSaga(orders: OrderLifecycle) {
  return defineSaga('CreateOrder', CreateOrderData, { failures: ['UNKNOWN_CUSTOMER', 'INSUFFICIENT_CREDIT'] })
    .step('create-order', {
      local: (tx, d) => orders.createPending(tx, d.orderId, d.customerId, d.orderTotal),
      compensate: {
        local: (tx, d, why) => orders.reject(tx, d.orderId, why === 'UNKNOWN_CUSTOMER' ? 'UNKNOWN_CUSTOMER' : 'INSUFFICIENT_CREDIT'),
      },
    })
    .step('reserve-credit', {
      kind: 'pivot',
      invoke: ReserveCredit.with((d) => ({ customerId: d.customerId, orderId: d.orderId, amount: d.orderTotal })),
      onReply: {
        CreditReserved: ok(),
        CustomerNotFound: fail('UNKNOWN_CUSTOMER'),
        CreditLimitExceeded: fail('INSUFFICIENT_CREDIT'),
      },
    })
    .step('approve-order', { kind: 'retriable', local: (tx, d) => orders.approve(tx, d.orderId) })
    .build();
}

export const CancelOrderData = z.object({ orderId: z.number().int().positive(), customerId: z.number().int() });
export type CancelOrderData = z.infer<typeof CancelOrderData>;

/**
 * Cancelling follows the "pessimistic view" countermeasure: the order is marked CANCELLED
 * first (the pivot) and credit is given back last (retriable), so no other saga can read
 * credit that is being returned for an order that is still live.
 */
export function cancelOrderSaga(orders: OrderLifecycle) {
  return defineSaga('CancelOrder', CancelOrderData)
    .step('cancel-order', { kind: 'pivot', local: (tx, d) => orders.cancel(tx, d.orderId) })
    .step('release-credit', {
      kind: 'retriable',
      invoke: ReleaseCredit.with((d) => ({ customerId: d.customerId, orderId: d.orderId })),
      onReply: { CreditReleased: ok() },
    })
    .build();
}

/** The sagas the order service's orchestrator runs. */
export type OrderSagas = ReturnType<typeof createOrderSaga> | ReturnType<typeof cancelOrderSaga>;
