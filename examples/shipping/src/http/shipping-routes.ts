import { HttpError, idempotencyKey, intParam, type Router } from '@concord/http';
import { z } from 'zod';
import type { ShippingService } from '../shipping/shipping-service.js';

export const CreateShipmentRequest = z.object({ orderId: z.number().int().positive() });
export const ResolveRequest = z.object({
  as: z.enum(['retry', 'done', 'failed']),
  note: z.string().trim().min(1, 'must say why').max(2_000),
  remoteId: z.string().min(1).max(190).optional(),
});

/** The Shipping API of ARCHITECTURE.md §4 ("The shipping example"). */
export function shippingRoutes(router: Router, shipping: ShippingService): void {
  router
    .on('POST', '/shipments', async (ctx) => {
      const key = idempotencyKey(ctx.req.headers['idempotency-key']);
      const body = CreateShipmentRequest.parse(await ctx.body());
      return { shipmentId: await shipping.createShipment(body.orderId, key) };
    })
    .on('GET', '/shipments/:id', async (ctx) => {
      const id = intParam(ctx.params, 'id');
      const shipment = await shipping.getShipment(id);
      if (!shipment) throw new HttpError(404, 'NOT_FOUND', `shipment ${id} not found`);
      return shipment;
    })
    .on('POST', '/shipments/:id/cancel', async (ctx) => shipping.cancelShipment(intParam(ctx.params, 'id')));
}

/** The operator API: consolidation, and the remote calls waiting for a person (token-guarded). */
export function shippingAdminRoutes(router: Router, shipping: ShippingService): void {
  const report = (repair: boolean) => async () => {
    const { checked, leaked, stale, needsPerson } = await shipping.consolidate(repair);
    return { checked, leaked, stale, needsPerson };
  };
  router
    // Looking changes nothing; POST repairs what it can prove and lists the rest.
    .admin('GET', '/admin/consolidation', report(false))
    .admin('POST', '/admin/consolidation', report(true))
    .admin('GET', '/admin/remote-calls', async (ctx) => {
      const parked = ctx.query.get('parked');
      return {
        remoteCalls: await shipping.tracker.list(
          parked === null ? { limit: 500 } : { parked: parked !== 'false', limit: 500 },
        ),
      };
    })
    .admin('GET', '/admin/remote-calls/:type/:key', async (ctx) => {
      const { type, key } = ctx.params as { type: string; key: string };
      const call = await shipping.tracker.get(type, key);
      if (!call) throw new HttpError(404, 'NOT_FOUND', `remote call ${type}/${key} not found`);
      return { ...call, history: await shipping.tracker.history(type, key) };
    })
    .admin('POST', '/admin/remote-calls/:type/:key/resolve', async (ctx) => {
      const { type, key } = ctx.params as { type: string; key: string };
      const body = ResolveRequest.parse(await ctx.body());
      // The actor comes from the token, never from the body.
      return shipping.tracker.resolve(type, key, { ...body, actor: ctx.actor });
    });
}
