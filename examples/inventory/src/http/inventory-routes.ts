import { idempotencyKey, intParam, type Router } from '@concord/http';
import { z } from 'zod';
import { isInventoryError } from '../inventory-errors.js';
import type { InventoryServices } from '../inventory-services.js';
import { mapped } from './http-mapping.js';

const Count = z.number().int().max(1_000_000_000);
const NewProduct = z.object({ name: z.string().trim().min(1).max(200), stock: Count.nonnegative() });
const Restock = z.object({ quantity: Count.positive() });
const NewPurchase = z.object({ productId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER), quantity: Count.positive() });

/** How long a read waits for a Redis that is being rebuilt before answering 503. */
const READY_WAIT_MS = 5_000;

/** The public API of ARCHITECTURE.md §4 "The inventory example". */
export function inventoryRoutes(router: Router, s: InventoryServices): void {
  const product = async (productId: number) => {
    try {
      return await s.purchases.product(productId);
    } catch (error) {
      if (!isInventoryError(error, 'STOCK_NOT_READY')) throw error;
      // Redis is being rebuilt from MySQL: wait for it rather than show a count it no longer has.
      await s.guardian.ready(READY_WAIT_MS);
      return s.purchases.product(productId);
    }
  };
  router
    .on('POST', '/products', mapped(async (ctx) => {
      const body = NewProduct.parse(await ctx.body());
      return { productId: await s.purchases.createProduct(body.name, body.stock) };
    }))
    .on('GET', '/products/:id', mapped(async (ctx) => product(intParam(ctx.params, 'id'))))
    .on('POST', '/products/:id/restock', mapped(async (ctx) => {
      const productId = intParam(ctx.params, 'id');
      const key = idempotencyKey(ctx.req.headers['idempotency-key']);
      const body = Restock.parse(await ctx.body());
      await s.purchases.restock(productId, body.quantity, key);
      return product(productId);
    }))
    .on('POST', '/purchases', mapped(async (ctx) => {
      const key = idempotencyKey(ctx.req.headers['idempotency-key']);
      const body = NewPurchase.parse(await ctx.body());
      return { purchaseId: await s.purchases.purchase(body, key) };
    }))
    .on('GET', '/purchases/:id', mapped(async (ctx) => s.purchases.getPurchase(intParam(ctx.params, 'id'))))
    // Up as long as the process serves; `stock` says whether Redis can decide anything right now.
    .on('GET', '/health', async () => {
      const generation = await s.stock.generation().catch(() => undefined);
      return { status: 'ok', stock: generation === undefined ? 'unavailable' : generation === null ? 'rebuilding' : 'ready' };
    });
}
