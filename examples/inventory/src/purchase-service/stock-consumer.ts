import { MessageConsumer, type Broker, type Logger } from '@concord/core';
import { AddStock, DeductStock } from '../contracts.js';
import { InventoryError, InventoryErrorCode } from '../inventory-errors.js';
import type { StockService } from '../stock-service/stock-service.js';
import { purchaseRepository as repo } from './purchase-repository.js';
import type { Conn } from './sql.js';
import type { InventoryStore } from './store.js';

export const STOCK_CONSUMER = 'inventory-stock';

/**
 * Carries each outbox message to the Stock service and records its answer in MySQL, in the
 * transaction that records the message in the inbox. The Redis script is keyed by the message
 * id, so a message handled again (a crash before this commit, a redelivery) gets the answer
 * Redis already recorded instead of a second deduction.
 *
 * A purchase's answer counts only if it came from the Redis generation MySQL still names: a
 * Redis that was lost and rebuilt meanwhile no longer holds that deduction, so the message is
 * decided again on the new generation. The shared lock on the generation row, held until
 * commit, makes a rebuild wait for this transaction, or this transaction see the new generation.
 */
export function createStockConsumer(options: { store: InventoryStore; broker: Broker; stock: StockService; logger: Logger }): MessageConsumer<Conn> {
  const { store, broker, stock, logger } = options;
  return new MessageConsumer<Conn>({
    name: STOCK_CONSUMER,
    store,
    broker,
    logger,
    // Redis being away is not a poison message: keep retrying (capped backoff), never park it.
    maxAttempts: Number.MAX_SAFE_INTEGER,
    backoff: { initialMs: 20, maxMs: 1_000, multiplier: 2, jitter: 0.5 },
  })
    .handle(DeductStock, async (tx, cmd, message) => {
      const decided = await stock.deduct(message.id, cmd.productId, cmd.quantity);
      const generation = await repo.stockGeneration(tx.handle, 'share');
      if (generation !== decided.generation) {
        throw new InventoryError(
          InventoryErrorCode.STOCK_GENERATION_CHANGED,
          `purchase ${cmd.purchaseId} was decided by Redis generation ${decided.generation}, MySQL now names ${generation}`,
        );
      }
      const confirmed = decided.outcome === 'APPLIED';
      await repo.recordOutcome(tx.handle, cmd.purchaseId, confirmed ? 'CONFIRMED' : 'REJECTED', confirmed ? null : 'OUT_OF_STOCK', generation, Date.now());
    })
    .handle(AddStock, async (tx, cmd, message) => {
      // No generation check: a rebuild counts every restock MySQL holds, applied or not.
      await stock.add(message.id, cmd.productId, cmd.quantity);
      await repo.markRestockApplied(tx.handle, cmd.restockId, Date.now());
    });
}
