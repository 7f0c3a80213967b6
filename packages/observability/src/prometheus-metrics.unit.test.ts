import type { RetentionReport } from '@concord/core';
import { describe, expect, it } from 'vitest';
import { PrometheusMetrics } from './prometheus-metrics.js';

describe('PrometheusMetrics', () => {
  it('turns saga signals into started, finished, stuck, retry counters and step latency', async () => {
    const metrics = new PrometheusMetrics({ processMetrics: false });
    const i = metrics.instrumentation('orders');
    const base = { sagaId: 's1', sagaType: 'CreateOrder', status: 'RUNNING' as const };
    i.sagaTransition!([
      { ...base, step: null, event: 'STARTED' },
      { ...base, step: 'create-order', event: 'STEP_DONE', durationMs: 3 },
      { ...base, step: 'approve', event: 'RETRY_SCHEDULED' },
      { ...base, step: 'approve', event: 'STUCK', status: 'STUCK' },
      { ...base, step: null, event: 'ABORTED', status: 'ABORTED' },
    ]);
    const text = await metrics.render();
    expect(text).toContain('concord_sagas_started_total{service="orders",saga_type="CreateOrder"} 1');
    expect(text).toContain('concord_sagas_finished_total{service="orders",saga_type="CreateOrder",status="ABORTED"} 1');
    expect(text).toContain('concord_sagas_stuck_total{service="orders",saga_type="CreateOrder",step="approve"} 1');
    expect(text).toContain('concord_saga_retries_total{service="orders",saga_type="CreateOrder",step="approve"} 1');
    expect(text).toContain('concord_saga_step_duration_seconds_count{service="orders",saga_type="CreateOrder",step="create-order",direction="forward"} 1');
  });

  it('keeps scraping when a watched service cannot answer, and counts the failed read', async () => {
    const metrics = new PrometheusMetrics({ processMetrics: false }).watch('orders', {
      outboxLag: async () => {
        throw new Error('database unreachable');
      },
      sagaCounts: async () => ({ STUCK: 2 }),
    });
    expect(await metrics.render()).toContain('concord_sagas{service="orders",status="STUCK"} 2');
    // Metrics are collected concurrently: a read that failed in one scrape shows in the next.
    expect(await metrics.render()).toContain('concord_metrics_collect_errors_total{service="orders",source="outbox"} 1');
  });

  it("shows the retention sweeper's last round: when it ran and how many tasks failed", async () => {
    const sweeper: { last?: RetentionReport } = {};
    const metrics = new PrometheusMetrics({ processMetrics: false }).watch('orders', { retention: () => sweeper.last });
    expect(await metrics.render()).not.toContain('concord_retention_last_sweep_timestamp_seconds{');
    sweeper.last = { at: 1_700_000_000_000, removed: { store: { inbox: 3 } }, failed: { broker: 'database unreachable' } };
    const text = await metrics.render();
    expect(text).toContain('concord_retention_last_sweep_timestamp_seconds{service="orders"} 1700000000');
    expect(text).toContain('concord_retention_failed_tasks{service="orders"} 1');
  });
});
