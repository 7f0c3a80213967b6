import { HttpError } from '@concord/http';
import { isInventoryError, type InventoryErrorCode } from '../inventory-errors.js';
import { IdempotencyKeyReusedError } from '../purchase-service/purchase-service.js';

const STATUS: Record<InventoryErrorCode, number> = {
  STOCK_NOT_READY: 503,
  STOCK_MISSING: 503,
  STOCK_UNAVAILABLE: 503,
  STOCK_GENERATION_CHANGED: 503,
  PRODUCT_NOT_FOUND: 404,
  PURCHASE_NOT_FOUND: 404,
  ITEM_NOT_FOUND: 404,
  ITEM_ALREADY_RESOLVED: 409,
  ITEM_CHANGED: 409,
};

/** The example's own errors as HTTP answers with their stable codes; anything else goes on to @concord/http's mapping. */
export function toInventoryHttpError(error: unknown): unknown {
  if (isInventoryError(error)) return new HttpError(STATUS[error.code], error.code, error.message, { cause: error });
  if (error instanceof IdempotencyKeyReusedError) return new HttpError(422, error.code, error.message, { cause: error });
  return error;
}

/** Wraps a route handler so the example's errors reach the client with the right status. */
export function mapped<C, R>(handler: (ctx: C) => Promise<R>): (ctx: C) => Promise<R> {
  return async (ctx) => {
    try {
      return await handler(ctx);
    } catch (error) {
      throw toInventoryHttpError(error);
    }
  };
}
