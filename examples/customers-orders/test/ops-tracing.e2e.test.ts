import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@concord/core';
import { startTracing, type RunningTracing } from '@concord/observability';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type RunningDemo } from '../src/demo.js';
import { DemoClient, waitUntil } from './demo-client.js';

describe('demo tracing (OpenTelemetry)', () => {
  let demo: RunningDemo;
  let tracing: RunningTracing;
  let dir: string;
  const exporter = new InMemorySpanExporter();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-ops-tracing-'));
    tracing = startTracing('concord-demo-test', [new SimpleSpanProcessor(exporter)]);
    demo = await startDemo({ port: 0, dataDir: dir, sagaMode: 'orchestration', databaseUrl: undefined, brokerUrl: undefined }, silentLogger, {
      tracing: tracing.tracing,
    });
  });
  afterAll(async () => {
    await demo?.stop();
    await tracing?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('one order is one trace across the order, customer and order-history services', async () => {
    const api = new DemoClient(demo.url);
    const customerId = await api.createCustomer('Traced', '100.00');
    const orderId = await api.createOrder(customerId, '25.00');
    expect((await api.awaitFinal(orderId)).orderState).toBe('APPROVED');

    const sagaSpan = await waitUntil(async () =>
      exporter.getFinishedSpans().find((s) => s.name === 'saga CreateOrder' && s.attributes['concord.saga.id'] === `create-order-${orderId}`),
    );
    const traceId = sagaSpan.spanContext().traceId;
    const inTrace = () => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    // The view applies OrderApproved last; wait for its span to be exported.
    const spans = await waitUntil(async () => {
      const all = inTrace();
      return all.some((s) => s.attributes['concord.service'] === 'order-history' && s.name.startsWith('handle ') && s.name.includes('Approved')) && all;
    });
    const services = new Set(spans.map((s) => s.attributes['concord.service']));
    expect([...services].sort()).toEqual(['customer-service', 'order-history', 'order-service']);

    const names = spans.map((s) => s.name);
    expect(names).toContain('saga CreateOrder');
    expect(names.some((n) => n.startsWith('publish '))).toBe(true);
    expect(names.some((n) => n.startsWith('handle customer.ReserveCredit'))).toBe(true);
    // Every span but the saga's own hangs under another span of the same trace.
    const ids = new Set(spans.map((s) => s.spanContext().spanId));
    const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
    for (const span of spans.filter((s) => s !== sagaSpan)) expect(ids.has(parentOf(span)!), `${span.name} has its parent in the trace`).toBe(true);

    // The customer's creation (no saga) was handled by the view in a trace of its own.
    const other = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId !== traceId && s.attributes['concord.service'] === 'order-history');
    expect(other.map((s) => s.name)).toContain('handle customer.CustomerCreated');
  });
});
