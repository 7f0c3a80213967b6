import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@concord/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type RunningDemo } from '../src/demo.js';
import { DemoClient, waitUntil } from './demo-client.js';

/** Parses the Prometheus text format into `name{labels}` → value. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    samples.set(m[1]!, Number(m[2]));
  }
  return samples;
}

const sum = (samples: Map<string, number>, name: string, labels: Record<string, string> = {}) =>
  [...samples]
    .filter(([key]) => key === name || key.startsWith(`${name}{`))
    .filter(([key]) => Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`)))
    .reduce((total, [, v]) => total + v, 0);

describe('demo /metrics and /health', () => {
  let demo: RunningDemo;
  let api: DemoClient;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-ops-metrics-'));
    demo = await startDemo(
      { port: 0, dataDir: dir, sagaMode: 'orchestration', databaseUrl: undefined, brokerUrl: undefined },
      silentLogger,
    );
    api = new DemoClient(demo.url);
  });
  afterAll(async () => {
    await demo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('after an approved and a rejected order, the saga, relay and consumer counters show them', async () => {
    const customerId = await api.createCustomer('Metrics', '100.00');
    const approved = await api.createOrder(customerId, '40.00');
    const rejected = await api.createOrder(customerId, '80.00');
    expect((await api.awaitFinal(approved)).orderState).toBe('APPROVED');
    expect((await api.awaitFinal(rejected)).orderState).toBe('REJECTED');

    const samples = await waitUntil(async () => {
      const res = await fetch(`${demo.url}/metrics`);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const parsed = parseMetrics(await res.text());
      return (
        sum(parsed, 'concord_sagas_finished_total') >= 2 &&
        sum(parsed, 'concord_consumer_messages_total', { service: 'order-history' }) > 0 &&
        parsed
      );
    });
    const createOrder = { service: 'order-service', saga_type: 'CreateOrder' };
    expect(sum(samples, 'concord_sagas_started_total', createOrder)).toBe(2);
    expect(sum(samples, 'concord_sagas_finished_total', { ...createOrder, status: 'COMPLETED' })).toBe(1);
    expect(sum(samples, 'concord_sagas_finished_total', { ...createOrder, status: 'COMPENSATED' })).toBe(1);
    // Step latency: one observation per finished step, remote reserve-credit included.
    expect(
      sum(samples, 'concord_saga_step_duration_seconds_count', { ...createOrder, step: 'reserve-credit' }),
    ).toBe(1);
    expect(
      sum(samples, 'concord_saga_step_duration_seconds_count', {
        ...createOrder,
        step: 'create-order',
        direction: 'backward',
      }),
    ).toBe(1);
    expect(sum(samples, 'concord_sagas', { service: 'order-service', status: 'COMPLETED' })).toBe(1);
    expect(sum(samples, 'concord_sagas', { service: 'order-service', status: 'STUCK' })).toBe(0);
    expect(
      sum(samples, 'concord_relay_published_messages_total', { service: 'order-service' }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      sum(samples, 'concord_relay_published_messages_total', { service: 'customer-service' }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      sum(samples, 'concord_consumer_messages_total', {
        service: 'customer-service',
        consumer: 'customer-service',
      }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      [...samples.keys()].some(
        (k) => k.startsWith('concord_consumer_lag_seconds{') && k.includes('partition="'),
      ),
    ).toBe(true);
    expect(samples.has('concord_outbox_unsent_messages{service="order-service"}')).toBe(true);
    expect(samples.has('concord_outbox_oldest_unsent_age_seconds{service="order-service"}')).toBe(true);
    expect(sum(samples, 'concord_dead_letters')).toBe(0);
    // The sweeper's first round runs at start: its time is recent, and nothing failed.
    const swept = samples.get('concord_retention_last_sweep_timestamp_seconds{service="order-service"}');
    expect(swept).toBeGreaterThan(Date.now() / 1000 - 600);
    expect(sum(samples, 'concord_retention_failed_tasks')).toBe(0);
    expect(samples.has('process_cpu_user_seconds_total')).toBe(true);
  });

  it('/health answers while the process lives; /ready lists every check', async () => {
    expect(await (await fetch(`${demo.url}/health`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${demo.url}/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(body.status).toBe('ready');
    expect(Object.keys(body.checks).sort()).toEqual(
      [
        'broker:sql-sqlite',
        'consumers:customer-service',
        'consumers:order-history',
        'consumers:order-service',
        'relay:customer-service',
        'relay:order-service',
        'store:customer-service',
        'store:order-history',
        'store:order-service',
      ].sort(),
    );
  });

  it("/ready fails while a service's consumers are stopped, and recovers when they run again", async () => {
    await demo.history.stop();
    const down = await fetch(`${demo.url}/ready`);
    expect(down.status).toBe(503);
    const body = (await down.json()) as { checks: Record<string, { ok: boolean; error?: string }> };
    expect(body.checks['consumers:order-history']).toMatchObject({
      ok: false,
      error: 'consumers are not running',
    });
    expect(body.checks['consumers:order-service']!.ok).toBe(true);
    await demo.history.start();
    expect((await fetch(`${demo.url}/ready`)).status).toBe(200);
  });
});
