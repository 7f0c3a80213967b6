import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@concord/core';
import { startDemo } from '../../../examples/customers-orders/src/demo.js';
import { DemoClient } from '../../../examples/customers-orders/test/demo-client.js';
import { spawnDemo } from '../../../examples/customers-orders/test/demo-process.js';
import { processTree } from '../lib/process-cpu.js';
import { watchFinalStates } from '../lib/saga-load.js';
import { orderInput, urlOf } from './order-databases.js';
import type { PeerSystem } from './peer-system.js';

/**
 * Concord's demo (Customer, Order and Order History services, each with its own database)
 * in this process, on the given database and broker, driven through its service API: create
 * the order, wait for its final state on the order service's change feed.
 */
export async function openConcord(
  name: string,
  prefix: string,
  store: 'sqlite' | 'postgres' | 'mysql',
  brokerUrl?: string,
): Promise<PeerSystem> {
  const dir = mkdtempSync(join(tmpdir(), 'concord-bench-peers-'));
  const databaseUrl = store === 'postgres' ? urlOf(prefix) : store === 'mysql' ? `mysql://root@127.0.0.1:3306/${prefix}` : undefined;
  const demo = await startDemo(
    { port: 0, dataDir: dir, sagaMode: 'orchestration', databaseUrl, brokerUrl, brokerPrefix: prefix.replaceAll('_', '-') },
    silentLogger,
  );
  const customers = await Promise.all(Array.from({ length: 100 }, (_, i) => demo.customers.createCustomer(`c${i}`, 1_000_000_000)));
  const finals = watchFinalStates(demo);
  return {
    name,
    databasePrefix: prefix,
    async runSaga(i) {
      const { customerId, total } = orderInput(i);
      await finals.finished(await demo.orders.createOrder(customers[customerId - 1]!.customerId, total));
    },
    async close() {
      finals.stop();
      await demo.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `npm run start:distributed` (two processes each of Customer, Order and Order History, and
 * the gateway) on PostgreSQL + NATS, on ports the system picks, driven over HTTP: POST
 * /orders, then the order's server-sent events until its final state.
 */
export async function openConcordDistributed(prefix: string): Promise<PeerSystem> {
  const demo = await spawnDemo(
    { CONCORD_DATABASE_URL: urlOf(prefix), CONCORD_BROKER_URL: 'nats://127.0.0.1:4222', CONCORD_BROKER_PREFIX: prefix.replaceAll('_', '-') },
    { script: 'distributed' },
  );
  const api = new DemoClient(demo.url);
  // A failed run says what the services printed last.
  const lastWords = () => demo.stderr().slice(-2_000);
  let customers: number[];
  try {
    customers = await Promise.all(Array.from({ length: 100 }, (_, i) => api.createCustomer(`c${i}`, '10000000.00')));
  } catch (error) {
    await demo.stop();
    throw error;
  }
  return {
    name: 'Concord distributed (2x each service + gateway), PostgreSQL + NATS',
    databasePrefix: prefix,
    helperPids: () => (demo.child.pid === undefined ? [] : processTree(demo.child.pid)),
    async runSaga(i) {
      const { customerId, total } = orderInput(i);
      try {
        const orderId = await api.createOrder(customers[customerId - 1]!, (total / 100).toFixed(2));
        await api.awaitFinal(orderId);
      } catch (error) {
        throw new Error(`${(error as Error).message} (the services' last words: ${lastWords()})`, { cause: error });
      }
    },
    close: () => demo.stop(),
  };
}
