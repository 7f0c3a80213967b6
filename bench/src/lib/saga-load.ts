import type { RunningDemo } from '../../../examples/customers-orders/src/demo.js';
import { runClosedLoop, type ClosedLoopResult } from './closed-loop.js';

/**
 * The demo's CreateOrder saga under a closed loop: each client creates an order and waits for
 * its final state (the saga's end) through the order service's change feed. `customers`
 * accounts are created first; `overLimitEvery` > 0 makes every n-th order exceed its
 * customer's credit (it ends REJECTED).
 */
export async function runCreateOrderLoad(
  demo: RunningDemo,
  options: { total: number; concurrency: number; warmup?: number; customers?: number; overLimitEvery?: number },
  measure?: { before(): Promise<void>; after(): Promise<void> },
): Promise<ClosedLoopResult> {
  const customerCount = options.customers ?? 100;
  const customers = await Promise.all(
    Array.from({ length: customerCount }, (_, i) => demo.customers.createCustomer(`c${i}`, 1_000_000_000)),
  );
  const finals = watchFinalStates(demo);
  const overEvery = options.overLimitEvery ?? 0;
  try {
    return await runClosedLoop({
      total: options.total,
      concurrency: options.concurrency,
      ...(options.warmup !== undefined ? { warmup: options.warmup } : {}),
      ...(measure ? { before: () => measure.before(), after: () => measure.after() } : {}),
      oneUnit: async (i) => {
        const amount = overEvery > 0 && i % overEvery === 0 ? 2_000_000_000 : 100;
        await finals.finished(await demo.orders.createOrder(customers[i % customers.length]!.customerId, amount));
      },
    });
  } finally {
    finals.stop();
  }
}


/**
 * Resolves `finished(orderId)` once the order leaves PENDING (the saga's end), from the order
 * service's change feed; a change that comes before the caller asks is remembered.
 */
export function watchFinalStates(demo: RunningDemo): { finished(orderId: number): Promise<void>; stop(): void } {
  const waiting = new Map<number, () => void>();
  const early = new Set<number>();
  const stop = demo.orders.onOrderChange((o) => {
    if (o.state === 'PENDING') return;
    const done = waiting.get(o.orderId);
    if (done) done();
    else early.add(o.orderId);
  });
  return {
    async finished(orderId) {
      if (early.delete(orderId)) return;
      await new Promise<void>((resolve) => waiting.set(orderId, resolve));
      waiting.delete(orderId);
    },
    stop,
  };
}
