import type { RunningDemo } from '../../../examples/customers-orders/src/demo.js';
import { nowMs, summarize, type LatencySummary } from './stats.js';

export interface SagaLoadResult extends LatencySummary {
  readonly sagas: number;
  readonly seconds: number;
  readonly sagasPerSec: number;
}

/**
 * A closed loop of `concurrency` clients, each creating an order and waiting for its final
 * state (the saga's end), over the demo's in-process services. `customers` accounts are
 * created first; `overLimitEvery` > 0 makes every n-th order exceed its customer's credit.
 */
export async function runCreateOrderLoad(
  demo: RunningDemo,
  options: { total: number; concurrency: number; warmup?: number; customers?: number; overLimitEvery?: number },
  measure?: { before(): Promise<void>; after(): Promise<void> },
): Promise<SagaLoadResult> {
  const customerCount = options.customers ?? 100;
  const customers = await Promise.all(
    Array.from({ length: customerCount }, (_, i) => demo.customers.createCustomer(`c${i}`, 1_000_000_000)),
  );
  const waiting = new Map<number, (t: number) => void>();
  const early = new Map<number, number>();
  const off = demo.orders.onOrderChange((o) => {
    if (o.state === 'PENDING') return;
    const done = waiting.get(o.orderId);
    if (done) done(nowMs());
    else early.set(o.orderId, nowMs());
  });
  const samples: number[] = [];
  const overEvery = options.overLimitEvery ?? 0;
  const oneSaga = async (i: number) => {
    const t0 = nowMs();
    const amount = overEvery > 0 && i % overEvery === 0 ? 2_000_000_000 : 100;
    const orderId = await demo.orders.createOrder(customers[i % customers.length]!.customerId, amount);
    const t1 = early.get(orderId) ?? (await new Promise<number>((resolve) => waiting.set(orderId, resolve)));
    waiting.delete(orderId);
    early.delete(orderId);
    samples.push(t1 - t0);
  };
  const warmup = options.warmup ?? 200;
  let next = 0;
  const loop = (limit: number) =>
    Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < limit) await oneSaga(next++);
      }),
    );
  await loop(warmup);
  samples.length = 0;
  await measure?.before();
  const started = nowMs();
  await loop(warmup + options.total);
  const seconds = (nowMs() - started) / 1000;
  await measure?.after();
  off();
  return { sagas: options.total, seconds, sagasPerSec: options.total / seconds, ...summarize(samples) };
}
