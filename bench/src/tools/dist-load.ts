/**
 * Drives `npm run start:distributed` (PostgreSQL + NATS) at one concurrency for a while, to
 * profile or sample it: `tsx bench/src/tools/dist-load.ts <concurrency> <sagas>`. With
 * CONCORD_CPU_PROFILE_DIR set, every service process writes a .cpuprofile on stop.
 */
import { dropPostgresDatabase } from '@concord/postgres';
import { DemoClient } from '../../../examples/customers-orders/test/demo-client.js';
import { spawnDemo } from '../../../examples/customers-orders/test/demo-process.js';
import { deleteNatsStreams } from '../lib/broker-cleanup.js';
import { runClosedLoop } from '../lib/closed-loop.js';
import { printTableReads } from '../lib/table-reads.js';

const PG = process.env.CONCORD_DIST_PG ?? 'postgres://postgres@127.0.0.1:5432';
const [concurrency = 64, total = 3000] = process.argv.slice(2).map(Number);
const id = Date.now().toString(36);
const base = `cdl_${id}`;
const prefix = `cdl-${id}`;
const demo = await spawnDemo(
  { CONCORD_DATABASE_URL: `${PG}/${base}`, CONCORD_BROKER_URL: process.env.BROKER ?? 'nats://127.0.0.1:4222', CONCORD_BROKER_PREFIX: prefix },
  { script: 'distributed', echoStderr: true },
);
try {
  const api = new DemoClient(demo.url);
  const customers = await Promise.all(Array.from({ length: 100 }, (_, i) => api.createCustomer(`c${i}`, '10000000.00')));
  console.log(`ready; launcher pid ${demo.child.pid}`);
  const result = await runClosedLoop({
    total,
    concurrency,
    warmup: 200,
    oneUnit: async (i) => {
      const orderId = await api.createOrder(customers[i % 100]!, '1.00');
      await api.awaitFinal(orderId);
    },
  });
  console.log(JSON.stringify(result));
  // CONCORD_AB_TABLES=1: where the rows read per saga come from, per database.
  if (process.env.CONCORD_AB_TABLES) {
    await printTableReads(PG, ['order_service', 'customer_service', 'order_history'].map((db) => `${base}_${db}`), total + 200);
  }
} finally {
  await demo.stop();
  for (const s of ['customer_service', 'order_service', 'order_history']) await dropPostgresDatabase(`${PG}/${base}_${s}`).catch(() => {});
  await deleteNatsStreams(prefix);
}
