import { storeAdminRoutes } from '@concord/example-customers-orders/admin-routes';
import { timerAdminRoutes } from '@concord/example-customers-orders/timer-admin-routes';
import type { SqlStore } from '@concord/core';
import type { Router } from '@concord/http';
import { z } from 'zod';
import type { OrderService } from '../order-service/order-service.js';

export interface FoodAdminServices {
  readonly orders: OrderService;
  /** Each service's store, by service name. */
  readonly stores: Readonly<Record<string, SqlStore>>;
}

const SagaStatusQuery = z.enum(['RUNNING', 'COMPENSATING', 'COMPLETED', 'COMPENSATED', 'STUCK', 'ABORTED']).optional();

/**
 * Operator routes (admin token), shared with the demo where they are the same: durable timers
 * (`concord timers list`), outbox lag and dead letters of every service; sagas of the order service.
 */
export function adminRoutes(router: Router, s: FoodAdminServices): void {
  timerAdminRoutes(router, s.stores);
  storeAdminRoutes(router, s.stores);
  router.admin('GET', '/admin/sagas', async (ctx) => {
    const status = SagaStatusQuery.parse(ctx.query.get('status') ?? undefined);
    const limit = Math.min(500, Number(ctx.query.get('limit') ?? 100) || 100);
    return { sagas: await s.orders.orchestrator.list({ ...(status ? { status } : {}), limit }), counts: await s.orders.orchestrator.countByStatus() };
  });
}
