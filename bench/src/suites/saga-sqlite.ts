import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@concord/core';
import { startDemo } from '../../../examples/customers-orders/src/demo.js';
import type { BenchRecord, BenchSuite } from '../lib/results.js';
import { nowMs, summarize } from '../lib/stats.js';

/**
 * The demo's CreateOrder saga on the embedded default (SQLite files, in-database broker), from
 * the create-order call to the order's final state, with `concurrency` requests in flight.
 */
async function run(sagaMode: 'orchestration' | 'choreography', total: number, concurrency: number): Promise<BenchRecord> {
  const dir = mkdtempSync(join(tmpdir(), 'concord-bench-saga-'));
  const demo = await startDemo({ port: 0, dataDir: dir, sagaMode, databaseUrl: undefined, brokerUrl: undefined }, silentLogger);
  const customers = await Promise.all(Array.from({ length: 16 }, (_, i) => demo.customers.createCustomer(`c${i}`, 1_000_000_000)));
  const waiting = new Map<number, (t: number) => void>();
  const early = new Map<number, number>();
  demo.orders.onOrderChange((o) => {
    if (o.state === 'PENDING') return;
    const done = waiting.get(o.orderId);
    if (done) done(nowMs());
    else early.set(o.orderId, nowMs());
  });
  const samples: number[] = [];
  let next = 0;
  const oneSaga = async (i: number) => {
    const t0 = nowMs();
    const orderId = await demo.orders.createOrder(customers[i % customers.length]!.customerId, 100);
    const t1 = early.get(orderId) ?? (await new Promise<number>((resolve) => waiting.set(orderId, resolve)));
    waiting.delete(orderId);
    early.delete(orderId);
    samples.push(t1 - t0);
  };
  // warm-up
  await Promise.all(Array.from({ length: 200 }, (_, i) => oneSaga(i)));
  samples.length = 0;
  const started = nowMs();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await oneSaga(next++);
    }),
  );
  const seconds = (nowMs() - started) / 1000;
  await demo.stop();
  rmSync(dir, { recursive: true, force: true });
  const latency = summarize(samples);
  return {
    scenario: `CreateOrder saga, ${sagaMode}, concurrency ${concurrency}`,
    throughputPerSec: total / seconds,
    ...latency,
    count: total,
    note: `max ${latency.maxMs} ms; 3 SQLite services + broker in one process`,
  };
}

const suite: BenchSuite = {
  name: 'saga-sqlite',
  async run() {
    return [await run('orchestration', 5_000, 64), await run('orchestration', 3_000, 16), await run('choreography', 5_000, 64)];
  },
};
export default suite;
