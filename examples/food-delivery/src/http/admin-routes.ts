import { DurableTimers, TimerStatus, type SqlStore } from '@concord/core';
import { HttpError, type Router } from '@concord/http';
import { z } from 'zod';
import type { OrderService } from '../order-service/order-service.js';

export interface FoodAdminServices {
  readonly orders: OrderService;
  /** Each service's store, by service name. */
  readonly stores: Readonly<Record<string, SqlStore>>;
}

const TimerQuery = z.object({
  service: z.string().optional(),
  status: z.enum(Object.values(TimerStatus) as [TimerStatus, ...TimerStatus[]]).optional(),
  kind: z.string().max(200).optional(),
  limit: z.coerce.number().int().positive().max(1_000).default(100),
});

/** Operator routes (admin token): durable timers of every service (`concord timers list`), sagas. */
export function adminRoutes(router: Router, s: FoodAdminServices): void {
  // Listing reads the timers table; these runtimes have no handlers and never fire anything.
  const timers = Object.fromEntries(Object.entries(s.stores).map(([name, store]) => [name, new DurableTimers({ store })]));
  router
    .admin('GET', '/admin/timers', async (ctx) => {
      const q = TimerQuery.parse(Object.fromEntries(ctx.query));
      if (q.service && !timers[q.service]) throw new HttpError(404, 'NOT_FOUND', `no service ${q.service}; one of ${Object.keys(timers).join(', ')}`);
      const services = q.service ? [q.service] : Object.keys(timers);
      const result = [];
      for (const service of services) {
        const runtime = timers[service]!;
        const list = await runtime.list({ ...(q.status ? { status: q.status } : {}), ...(q.kind ? { kind: q.kind } : {}), limit: q.limit });
        result.push(...list.map((t) => ({ service, ...t })));
      }
      const counts = Object.fromEntries(await Promise.all(services.map(async (n) => [n, await timers[n]!.countByStatus()] as const)));
      return { timers: result.sort((a, b) => a.dueAt - b.dueAt).slice(0, q.limit), counts };
    })
    .admin('GET', '/admin/sagas', async (ctx) => {
      const status = z.enum(['RUNNING', 'COMPENSATING', 'COMPLETED', 'COMPENSATED', 'STUCK', 'ABORTED']).optional().parse(ctx.query.get('status') ?? undefined);
      const limit = Math.min(500, Number(ctx.query.get('limit') ?? 100) || 100);
      return { sagas: await s.orders.orchestrator.list({ ...(status ? { status } : {}), limit }), counts: await s.orders.orchestrator.countByStatus() };
    });
}
