import type { SqlStore } from '@concord/core';
import { z } from 'zod';
import type { OrderHistoryView } from '../order-history/order-history-view.js';
import type { OrderService } from '../order-service/order-service.js';
import { HttpError, intParam, type Router } from '@concord/http';
import { timerAdminRoutes } from './timer-admin-routes.js';

export interface AdminServices {
  readonly orders: OrderService;
  readonly history: OrderHistoryView;
  /** Each service's store, by service name: outbox status and dead letters. */
  readonly stores: Readonly<Record<string, SqlStore>>;
}

// No `actor` in bodies: who acted is the admin token's name (ctx.actor), never what a client claims.
const Note = z.object({ note: z.string().trim().min(1, 'a note is required').max(2000) });
const Resolve = Note.extend({ step: z.string().min(1).max(200), as: z.enum(['done', 'compensated']) });
const RetryBody = z.object({ note: z.string().max(2000).optional() }).optional();

/** What the operator console (and `concord` CLI) drive: STUCK sagas, outbox lag, dead letters. All need the admin token. */
export function adminRoutes(router: Router, s: AdminServices): void {
  sagaAdminRoutes(router, s.orders);
  storeAdminRoutes(router, s.stores);
  timerAdminRoutes(router, s.stores);
  viewAdminRoutes(router, s.history);
}

export function sagaAdminRoutes(router: Router, orders: OrderService): void {
  const orchestrator = () => {
    if (!orders.orchestrator) throw new HttpError(404, 'NOT_FOUND', 'no saga orchestrator in choreography mode');
    return orders.orchestrator;
  };
  router
    .admin('GET', '/admin/sagas', async (ctx) => {
      const status = ctx.query.get('status') ?? undefined;
      const parsed = z.enum(['RUNNING', 'COMPENSATING', 'COMPLETED', 'COMPENSATED', 'STUCK', 'ABORTED']).optional().parse(status);
      const limit = Math.min(500, Number(ctx.query.get('limit') ?? 100) || 100);
      return { sagas: await orchestrator().list({ ...(parsed ? { status: parsed } : {}), limit }), counts: await orchestrator().countByStatus() };
    })
    .admin('POST', '/admin/sagas/:id/retry', async (ctx) => {
      const body = RetryBody.parse(await ctx.body()) ?? {};
      return orchestrator().retry(ctx.params.id!, { ...(body.note ? { note: body.note } : {}), actor: ctx.actor });
    })
    .admin('POST', '/admin/sagas/:id/resolve', async (ctx) => {
      const body = Resolve.parse(await ctx.body());
      return orchestrator().resolve(ctx.params.id!, { step: body.step, as: body.as, note: body.note, actor: ctx.actor });
    })
    .admin('POST', '/admin/sagas/:id/abort', async (ctx) => {
      const body = Note.parse(await ctx.body());
      return orchestrator().abort(ctx.params.id!, { note: body.note, actor: ctx.actor });
    });
}

export function storeAdminRoutes(router: Router, stores: AdminServices['stores']): void {
  const s = { stores };
  const store = (name: string) => {
    const found = s.stores[name];
    if (!found) throw new HttpError(404, 'NOT_FOUND', `unknown service ${name} (known: ${Object.keys(s.stores).join(', ')})`);
    return found;
  };
  router
    .admin('GET', '/admin/outbox', async () => {
      const out: Record<string, unknown> = {};
      for (const [name, st] of Object.entries(s.stores)) out[name] = await st.outbox.lag();
      return { outbox: out };
    })
    .admin('GET', '/admin/dead-letters', async () => {
      const out: Record<string, unknown> = {};
      for (const [name, st] of Object.entries(s.stores)) out[name] = await st.deadLetters.list({ limit: 200 });
      return { deadLetters: out };
    })
    .admin('POST', '/admin/dead-letters/:service/:id/replay', async (ctx) => ({
      replayed: await store(ctx.params.service!).deadLetters.replay(intParam(ctx.params, 'id')),
    }));
}

export function viewAdminRoutes(router: Router, history: OrderHistoryView): void {
  router.admin('POST', '/admin/views/order-history/rebuild', async () => {
    await history.rebuild();
    return { rebuilt: 'order-history' };
  });
}
