import type { Logger } from '@concord/core';
import { AddStock, DeductStock, purchaseMessageId, restockMessageId } from '../contracts.js';
import { InventoryError, InventoryErrorCode } from '../inventory-errors.js';
import type { StockService } from '../stock-service/stock-service.js';
import { purchaseRepository as repo, type Purchase } from './purchase-repository.js';
import type { InventoryStore } from './store.js';

export interface ProductView {
  readonly productId: number;
  readonly name: string;
  /** As Redis holds it. */
  readonly stock: number;
  /** As MySQL records it: the quantities of every CONFIRMED purchase. */
  readonly sold: number;
}

/** A second request with an Idempotency-Key already used for another body. */
export class IdempotencyKeyReusedError extends Error {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  constructor(key: string) {
    super(`Idempotency-Key "${key}" was already used for a different purchase`);
    this.name = 'IdempotencyKeyReusedError';
  }
}

const DUPLICATE_ENTRY = 1062;

/** Two requests with the same new key at once: the loser runs again and finds the winner's row. */
async function withKeyRace<T>(idempotencyKey: string | undefined, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (idempotencyKey === undefined || attempt >= 3 || (error as { errno?: number }).errno !== DUPLICATE_ENTRY) throw error;
    }
  }
}

/**
 * The Purchase service. Every change is one MySQL transaction that writes the record and the
 * message asking the Stock service to follow; Redis is never written inside a MySQL
 * transaction (the seed's broken design) and never before MySQL recorded the intent.
 */
export class PurchaseService {
  constructor(
    private readonly store: InventoryStore,
    private readonly stock: StockService,
    private readonly logger: Logger,
  ) {}

  async createProduct(name: string, initialStock: number): Promise<number> {
    const { productId, restockId } = await this.store.transaction(async (tx) => {
      const now = Date.now();
      const productId = await repo.insertProduct(tx.handle, name, now);
      // The first stock is a restock like any other: one way units enter, one record of it.
      const restockId = await repo.insertRestock(tx.handle, productId, initialStock, now);
      await tx.outbox.send(AddStock, { restockId, productId, quantity: initialStock }, { id: restockMessageId(restockId) });
      return { productId, restockId };
    });
    await this.addNow(restockId, productId, initialStock);
    return productId;
  }

  /**
   * Records a restock with its AddStock message. With an Idempotency-Key, a retried request
   * (after a timeout, say) is recognised and stocks nothing twice.
   */
  async restock(productId: number, quantity: number, idempotencyKey?: string): Promise<ProductView> {
    const restockId = await withKeyRace(idempotencyKey, () =>
      this.store.transaction(async (tx) => {
        if (idempotencyKey !== undefined) {
          const earlier = await repo.findRestockByIdempotencyKey(tx.handle, idempotencyKey);
          if (earlier) {
            if (earlier.fingerprint !== `${productId}:${quantity}`) throw new IdempotencyKeyReusedError(idempotencyKey);
            return earlier.restockId;
          }
        }
        if (!(await repo.findProduct(tx.handle, productId))) throw new InventoryError(InventoryErrorCode.PRODUCT_NOT_FOUND, `product ${productId} not found`);
        const restockId = await repo.insertRestock(tx.handle, productId, quantity, Date.now(), idempotencyKey ?? null);
        await tx.outbox.send(AddStock, { restockId, productId, quantity }, { id: restockMessageId(restockId) });
        return restockId;
      }),
    );
    await this.addNow(restockId, productId, quantity);
    return this.product(productId);
  }

  /**
   * Applies a committed restock to Redis right away, so the answer shows it. If Redis is down
   * this does nothing harmful: the outbox message applies it later, and the ledger makes the
   * second application a no-op.
   */
  private async addNow(restockId: number, productId: number, quantity: number): Promise<void> {
    try {
      await this.stock.add(restockMessageId(restockId), productId, quantity);
    } catch (error) {
      this.logger.info({ err: error, restockId }, 'restock not applied at once; its message will apply it');
    }
  }

  async product(productId: number): Promise<ProductView> {
    const { product, sold } = await this.store.transaction(async (tx) => ({
      product: await repo.findProduct(tx.handle, productId),
      sold: await repo.sold(tx.handle, productId),
    }));
    if (!product) throw new InventoryError(InventoryErrorCode.PRODUCT_NOT_FOUND, `product ${productId} not found`);
    return { ...product, stock: await this.stock.stock(productId), sold };
  }

  /**
   * Records the purchase as PENDING with its DeductStock message, in one transaction, and
   * answers at once. An unknown product is recorded as REJECTED right away (nothing to deduct).
   */
  async purchase(request: { productId: number; quantity: number }, idempotencyKey?: string): Promise<number> {
    const fingerprint = `${request.productId}:${request.quantity}`;
    return withKeyRace(idempotencyKey, () =>
      this.store.transaction(async (tx) => {
        if (idempotencyKey !== undefined) {
          const earlier = await repo.findByIdempotencyKey(tx.handle, idempotencyKey);
          if (earlier) {
            if (earlier.fingerprint !== fingerprint) throw new IdempotencyKeyReusedError(idempotencyKey);
            return earlier.purchaseId;
          }
        }
        const known = await repo.findProduct(tx.handle, request.productId);
        const purchaseId = await repo.insertPurchase(
          tx.handle,
          {
            ...request,
            state: known ? 'PENDING' : 'REJECTED',
            rejectionReason: known ? null : 'UNKNOWN_PRODUCT',
            idempotencyKey: idempotencyKey ?? null,
            fingerprint,
          },
          Date.now(),
        );
        if (known) await tx.outbox.send(DeductStock, { purchaseId, ...request }, { id: purchaseMessageId(purchaseId) });
        return purchaseId;
      }),
    );
  }

  async getPurchase(purchaseId: number): Promise<Purchase> {
    const purchase = await this.store.transaction((tx) => repo.findPurchase(tx.handle, purchaseId));
    if (!purchase) throw new InventoryError(InventoryErrorCode.PURCHASE_NOT_FOUND, `purchase ${purchaseId} not found`);
    return purchase;
  }
}
