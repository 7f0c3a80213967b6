import type { SqlStore } from '@concord/core';
import { z } from 'zod';
import type { OrderHistoryView } from '../order-history/order-history-view.js';
import type { OrderService } from '../order-service/order-service.js';
import { hasControlCharacters, HttpError, intParam, type Router } from '@concord/http';
import { timerAdminRoutes } from './timer-admin-routes.js';

export interface AdminServices {
  readonly orders: OrderService;
  readonly history: OrderHistoryView;
  /** Each service's store, by service name: outbox status and dead letters. */
  readonly stores: Readonly<Record<string, SqlStore>>;
}

// No `actor` in bodies: who acted is the admin token's name (ctx.actor), never what a client claims.
// Notes land in the saga's history (JSON in the database): no NUL or other control characters but line breaks.
const text = (max: number) =>
  z.string().max(max).refine((v) => !hasControlCharacters(v, { allowLineBreaks: true }), 'must not contain control characters');
const Note = z.object({ note: text(2000).trim().min(1, 'a note is required') });
const Resolve = Note.extend({ step: text(200).min(1), as: z.enum(['done', 'compensated']) });
const RetryBody = z.object({ note: text(2000).optional() }).optional();

/** What the operator console (and `concord` CLI) drive: STUCK sagas, outbox lag, dead letters. All need the admin token. */
export function adminRoutes(router: Router, s: AdminServices): void {
  sagaAdminRoutes(router, s.orders);
  sagaDeadLetterRoutes(router, s.stores);
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
      // 1..500: a negative LIMIT means "no limit" to SQLite and an error to PostgreSQL.
      const limit = Math.max(1, Math.min(500, Math.trunc(Number(ctx.query.get('limit') ?? 100)) || 100));
      const offset = Math.max(0, Math.min(1_000_000, Math.trunc(Number(ctx.query.get('offset') ?? 0)) || 0));
      const sagaType = ctx.query.get('type') || undefined;
      const filter = { ...(parsed ? { status: parsed } : {}), ...(sagaType ? { sagaType } : {}), limit, offset };
      return { sagas: await orchestrator().list(filter), counts: await orchestrator().countByStatus(), limit, offset };
    })
    .admin('GET', '/admin/sagas/:id', async (ctx) => {
      const saga = await orchestrator().get(ctx.params.id!);
      if (!saga) throw new HttpError(404, 'NOT_FOUND', `no saga ${ctx.params.id}`);
      return saga;
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

/** Dead letters of one saga's messages (commands and replies carry its id), replayed ones included: the console's timeline. */
export function sagaDeadLetterRoutes(router: Router, stores: AdminServices['stores']): void {
  router.admin('GET', '/admin/sagas/:id/dead-letters', async (ctx) => {
    const out: Array<Record<string, unknown>> = [];
    for (const [service, store] of Object.entries(stores)) {
      for (const letter of await store.deadLetters.list({ includeReplayed: true, limit: 1000 })) {
        if (letter.message.headers['concord-saga-id'] === ctx.params.id) out.push({ service, ref: `${service}:${letter.id}`, ...letter });
      }
    }
    return { deadLetters: out };
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
  const views: Record<string, { rebuild(): Promise<void> }> = { 'order-history': history };
  router.admin('GET', '/admin/views', async () => ({ views: Object.keys(views) }));
  router.admin('POST', '/admin/views/:name/rebuild', async (ctx) => {
    const view = views[ctx.params.name!];
    if (!view) throw new HttpError(404, 'NOT_FOUND', `no view ${ctx.params.name} (known: ${Object.keys(views).join(', ')})`);
    const started = Date.now();
    await view.rebuild();
    return { rebuilt: ctx.params.name, tookMs: Date.now() - started };
  });
}
