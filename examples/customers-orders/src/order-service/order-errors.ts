import { ConcordError, ConcordErrorCode } from '@concord/core';

/** 409: the order's saga still holds it (the PENDING state is a semantic lock). */
export class OrderLockedError extends ConcordError {
  readonly httpCode = 'ORDER_LOCKED';
  constructor(orderId: number) {
    super(ConcordErrorCode.ILLEGAL_STATE, `order ${orderId} is PENDING: its create-order saga still holds it; try again shortly`);
    this.name = 'OrderLockedError';
  }
}

/** 409: only APPROVED orders can be cancelled. */
export class OrderNotCancellableError extends ConcordError {
  readonly httpCode = 'ORDER_NOT_CANCELLABLE';
  constructor(orderId: number, state: string) {
    super(ConcordErrorCode.ILLEGAL_STATE, `order ${orderId} is ${state}: only APPROVED orders can be cancelled`);
    this.name = 'OrderNotCancellableError';
  }
}
