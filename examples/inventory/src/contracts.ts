import { defineMessage } from '@concord/core';
import { z } from 'zod';

/**
 * The Purchase service's outbox messages to the Stock service. Each message's id is the key of
 * its effect in Redis (the Stock ledger), so a message delivered twice is applied once.
 * Both are partitioned by product: one product's deductions are decided first come, first served.
 */
export const DeductStock = defineMessage('inventory.DeductStock', {
  channel: 'inventory-stock',
  schema: z.object({ purchaseId: z.number().int().positive(), productId: z.number().int().positive(), quantity: z.number().int().positive() }),
  partitionKey: (p) => String(p.productId),
});

export const AddStock = defineMessage('inventory.AddStock', {
  channel: 'inventory-stock',
  schema: z.object({ restockId: z.number().int().positive(), productId: z.number().int().positive(), quantity: z.number().int().nonnegative() }),
  partitionKey: (p) => String(p.productId),
});

/** Message ids are derived from the row they belong to, so MySQL and the Redis ledger name the same thing. */
export const purchaseMessageId = (purchaseId: number): string => `purchase-${purchaseId}`;
export const restockMessageId = (restockId: number): string => `restock-${restockId}`;
