import { ConcordError, ConcordErrorCode } from '@concord/core';
import type { OrderState } from '../contracts.js';

/** The order is in a state where the action does not apply: HTTP 409. */
export class OrderStateConflictError extends ConcordError {
  readonly httpCode = 'ORDER_STATE_CONFLICT';
  constructor(orderId: number, state: OrderState, action: string) {
    super(ConcordErrorCode.ILLEGAL_STATE, `order ${orderId} is ${state}: cannot ${action}`);
    this.name = 'OrderStateConflictError';
  }
}

/** An Idempotency-Key already used for another request body: HTTP 422. */
export class IdempotencyKeyReusedError extends ConcordError {
  readonly httpCode = 'IDEMPOTENCY_KEY_REUSED';
  constructor(key: string) {
    super(ConcordErrorCode.INVALID_ARGUMENT, `Idempotency-Key "${key}" was used for a different request`);
    this.name = 'IdempotencyKeyReusedError';
  }
}
