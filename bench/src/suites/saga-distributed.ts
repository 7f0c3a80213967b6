import { serviceAvailable, services } from '@concord/core/testing';
import { dropPostgresDatabase } from '@concord/postgres';
import { DemoClient } from '../../../examples/customers-orders/test/demo-client.js';
import { spawnDemo } from '../../../examples/customers-orders/test/demo-process.js';
import { deleteNatsStreams } from '../lib/broker-cleanup.js';
import type { BenchRecord, BenchSuite } from '../lib/results.js';
import { nowMs, summarize } from '../lib/stats.js';

const PG = 'postgres://postgres@127.0.0.1:5432';

/**
 * The create-order saga in distributed mode (two processes each of Customer, Order and Order
 * History on PostgreSQL + NATS, behind the gateway), driven over HTTP: POST /orders, then the
 * order's server-sent events until its final state.
 */
const suite: BenchSuite = {
  name: 'saga-distributed',
  async skip() {
    const ok = (await serviceAvailable(services.postgres).catch(() => false)) && (await serviceAvailable(services.nats).catch(() => false));
    return ok ? undefined : 'needs PostgreSQL and NATS';
  },
  async run() {
    const id = Date.now().toString(36);
    const base = `cbench_${id}`;
    const prefix = `cb-${id}`;
    const records: BenchRecord[] = [];
    const demo = await spawnDemo(
      { CONCORD_DATABASE_URL: `${PG}/${base}`, CONCORD_BROKER_URL: 'nats://127.0.0.1:4222', CONCORD_BROKER_PREFIX: prefix },
      { script: 'distributed', echoStderr: true },
    );
    const api = new DemoClient(demo.url);
    try {
      const customers = await Promise.all(Array.from({ length: 16 }, (_, i) => api.createCustomer(`c${i}`, '100000000.00')));
      const oneSaga = async (i: number, samples: number[]) => {
        const t0 = nowMs();
        const orderId = await api.createOrder(customers[i % customers.length]!, '1.00');
        await api.awaitFinal(orderId);
        samples.push(nowMs() - t0);
      };
      for (const [concurrency, total] of [[64, 3_000], [16, 1_000]] as const) {
        const warm: number[] = [];
        await Promise.all(Array.from({ length: 200 }, (_, i) => oneSaga(i, warm)));
        const samples: number[] = [];
        let next = 0;
        const started = nowMs();
        await Promise.all(Array.from({ length: concurrency }, async () => {
          while (next < total) await oneSaga(next++, samples);
        }));
        const seconds = (nowMs() - started) / 1000;
        const latency = summarize(samples);
        records.push({
          scenario: `CreateOrder saga, distributed (2× each service), PostgreSQL + NATS, concurrency ${concurrency}`,
          throughputPerSec: total / seconds,
          ...latency,
          count: total,
          note: `max ${latency.maxMs} ms; HTTP via gateway, final state by SSE`,
        });
      }
    } finally {
      await demo.stop();
      for (const s of ['customer_service', 'order_service', 'order_history']) await dropPostgresDatabase(`${PG}/${base}_${s}`).catch(() => {});
      await deleteNatsStreams(prefix);
    }
    return records;
  },
};
export default suite;
