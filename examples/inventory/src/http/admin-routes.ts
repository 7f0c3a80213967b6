import type { Router } from '@concord/http';
import { z } from 'zod';
import { intParam } from '@concord/http';
import type { InventoryServices } from '../inventory-services.js';
import { reconcileLog } from '../reconcile/reconcile-log.js';
import { mapped } from './http-mapping.js';

const Limit = z.coerce.number().int().min(1).max(500).default(50);
const Resolve = z.object({ decision: z.enum(['reverse', 'accept']), note: z.string().trim().min(1, 'a note is required').max(2_000) });
const ItemState = z.enum(['OPEN', 'RESOLVED']).optional();

/**
 * Reconciliation for operators (all need the admin token; the actor in every log row is the
 * token's name, never something the request body says).
 */
export function adminRoutes(router: Router, s: InventoryServices): void {
  const read = <T>(fn: (conn: Parameters<Parameters<typeof s.store.transaction>[0]>[0]['handle']) => Promise<T>) =>
    s.store.transaction((tx) => fn(tx.handle));
  router
    .admin('POST', '/admin/reconcile', mapped(async (ctx) => s.reconciler.reconcile(ctx.actor)))
    .admin('GET', '/admin/reconcile/runs', mapped(async (ctx) => ({ runs: await read((c) => reconcileLog.runs(c, Limit.parse(ctx.query.get('limit') ?? undefined))) })))
    .admin('GET', '/admin/reconcile/items', mapped(async (ctx) => {
      const state = ItemState.parse(ctx.query.get('state') ?? undefined);
      return { items: await read((c) => reconcileLog.items(c, state, Limit.parse(ctx.query.get('limit') ?? undefined))) };
    }))
    .admin('POST', '/admin/reconcile/items/:id/resolve', mapped(async (ctx) => {
      const itemId = intParam(ctx.params, 'id');
      const body = Resolve.parse(await ctx.body());
      return s.reconciler.resolve(itemId, body.decision, body.note, ctx.actor);
    }))
    .admin('GET', '/admin/reconcile/actions', mapped(async (ctx) => ({ actions: await read((c) => reconcileLog.actions(c, Limit.parse(ctx.query.get('limit') ?? undefined))) })));
}
