/** Stable codes of the inventory example's own errors. Match on `code`, never on message text. */
export const InventoryErrorCode = {
  /** Redis holds no stock generation (lost, or being rebuilt): nothing is decided until it is back. */
  STOCK_NOT_READY: 'STOCK_NOT_READY',
  /** Redis cannot be reached or refused a command: nothing was decided; try again. */
  STOCK_UNAVAILABLE: 'STOCK_UNAVAILABLE',
  /** Redis has no count for a product MySQL knows: reconciliation restores it. */
  STOCK_MISSING: 'STOCK_MISSING',
  /** The Redis generation changed while an outcome was being recorded: decide again on the new one. */
  STOCK_GENERATION_CHANGED: 'STOCK_GENERATION_CHANGED',
  PRODUCT_NOT_FOUND: 'PRODUCT_NOT_FOUND',
  PURCHASE_NOT_FOUND: 'PURCHASE_NOT_FOUND',
  ITEM_NOT_FOUND: 'ITEM_NOT_FOUND',
  ITEM_ALREADY_RESOLVED: 'ITEM_ALREADY_RESOLVED',
  /** The ledger entry a person decided on changed since it was listed. */
  ITEM_CHANGED: 'ITEM_CHANGED',
} as const;
export type InventoryErrorCode = (typeof InventoryErrorCode)[keyof typeof InventoryErrorCode];

export class InventoryError extends Error {
  constructor(
    readonly code: InventoryErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'InventoryError';
  }
}

export function isInventoryError(error: unknown, code?: InventoryErrorCode): error is InventoryError {
  return error instanceof InventoryError && (code === undefined || error.code === code);
}
