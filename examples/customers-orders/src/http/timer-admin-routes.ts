import { DurableTimers, TimerStatus, type SqlStore } from '@concord/core';
import { HttpError, type Router } from '@concord/http';
import { z } from 'zod';

const TimerQuery = z.object({
  service: z.string().max(200).optional(),
  status: z.enum(Object.values(TimerStatus) as [TimerStatus, ...TimerStatus[]]).optional(),
  kind: z.string().max(200).optional(),
  limit: z.coerce.number().int().positive().max(1_000).default(100),
});

/**
 * `GET /admin/timers` (admin token; what `concord timers list` reads): the durable timers of
 * every service's store, by due time, with counts by status. `?service=`, `?status=`,
 * `?kind=`, `?limit=` narrow it.
 */
export function timerAdminRoutes(router: Router, stores: Readonly<Record<string, SqlStore>>): void {
  // Listing reads the timers table; these runtimes have no handlers and never fire anything.
  const timers = Object.fromEntries(Object.entries(stores).map(([name, store]) => [name, new DurableTimers({ store })]));
  router.admin('GET', '/admin/timers', async (ctx) => {
    const q = TimerQuery.parse(Object.fromEntries(ctx.query));
    if (q.service && !timers[q.service]) {
      throw new HttpError(404, 'NOT_FOUND', `unknown service ${q.service} (known: ${Object.keys(timers).join(', ')})`);
    }
    const names = q.service ? [q.service] : Object.keys(timers);
    const listed = [];
    const counts: Record<string, Record<string, number>> = {};
    for (const name of names) {
      const runtime = timers[name]!;
      const list = await runtime.list({ ...(q.status ? { status: q.status } : {}), ...(q.kind ? { kind: q.kind } : {}), limit: q.limit });
      listed.push(...list.map((t) => ({ service: name, ...t })));
      counts[name] = await runtime.countByStatus();
    }
    return { timers: listed.sort((a, b) => a.dueAt - b.dueAt).slice(0, q.limit), counts };
  });
}
