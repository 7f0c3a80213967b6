import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceAvailable, services } from '@concord/core/testing';
import { dropPostgresDatabase } from '@concord/postgres';
import { connect as natsConnect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoClient, waitUntil } from './demo-client.js';
import { serviceProcesses } from './chaos/fault-injector.js';

const launcher = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'distributed', 'main.ts');
const PG = 'postgres://postgres@127.0.0.1:5432';
const PORT = 18_740; // instances on 18741-18746 (this helper's port range)
const available = (await serviceAvailable(services.postgres)) && (await serviceAvailable(services.nats));

describe.skipIf(!available)('distributed mode: service processes SIGKILLed while 300 orders come in', () => {
  const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const base = `cdkill_${id}`;
  const prefix = `cdk-${id}`;
  let launched: ChildProcess;
  let api: DemoClient;

  beforeAll(async () => {
    launched = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', launcher], {
      env: { ...process.env, PORT: String(PORT), CONCORD_DATABASE_URL: `${PG}/${base}`, CONCORD_BROKER_URL: 'nats://127.0.0.1:4222', CONCORD_BROKER_PREFIX: prefix, CONCORD_LOG_LEVEL: 'error' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    api = new DemoClient(`http://127.0.0.1:${PORT}`);
    await waitUntil(async () => (await api.call('GET', '/health')).status === 200, 180_000);
  }, 200_000);

  afterAll(async () => {
    if (launched.exitCode === null) {
      const exited = new Promise((r) => launched.once('exit', r));
      launched.kill('SIGTERM');
      await exited;
    }
    for (const service of ['customer_service', 'order_service', 'order_history']) await dropPostgresDatabase(`${PG}/${base}_${service}`).catch(() => {});
    const nc = await natsConnect({ servers: '127.0.0.1:4222' });
    const jsm = await jetstreamManager(nc);
    for await (const stream of jsm.streams.names()) if (stream.startsWith(prefix)) await jsm.streams.delete(stream);
    await nc.close();
  }, 60_000);

  it('never holds an order for a request the gateway sent twice: orders <= requests, every answered order exists', async () => {
    const customerId = await api.createCustomer('Chaos', '100000.00');
    const answers: Array<{ status: number; orderId?: number }> = [];
    let next = 0;
    const worker = async () => {
      while (next < 300) {
        next++;
        const r = await api.call('POST', '/orders', { customerId, orderTotal: { amount: '1.00' } }).catch(() => ({ status: 0, body: {} as Record<string, unknown> }));
        answers.push({ status: r.status, ...(r.status === 200 ? { orderId: r.body.orderId as number } : {}) });
      }
    };
    const killer = (async () => {
      await waitUntil(async () => answers.length >= 60);
      for (const victim of serviceProcesses(launched.pid!).filter((p) => p.name.endsWith('#1'))) process.kill(victim.pid, 'SIGKILL');
    })();
    await Promise.all([...Array.from({ length: 10 }, worker), killer]);

    const answered = answers.filter((a) => a.status === 200).map((a) => a.orderId!);
    const unknownOutcome = answers.filter((a) => a.status !== 200);
    expect(unknownOutcome.every((a) => [0, 502, 503].includes(a.status))).toBe(true);
    const orders = await waitUntil(async () => {
      const all = (await api.call('GET', '/orders')).body.orders as Array<{ orderId: number; orderState: string }>;
      return all.length > 0 && all.every((o) => o.orderState !== 'PENDING') ? all : undefined;
    }, 120_000);
    console.log(`300 requests: ${answered.length} answered 200, ${unknownOutcome.length} failed (${JSON.stringify(unknownOutcome.map((a) => a.status))}); ${orders.length} orders held`);
    expect(orders.length).toBeLessThanOrEqual(300);
    const held = new Set(orders.map((o) => o.orderId));
    expect(answered.filter((o) => !held.has(o))).toEqual([]);
    // Orders nobody was told of can only come from requests answered with a failure, one each at most.
    expect(orders.length - answered.length).toBeLessThanOrEqual(unknownOutcome.length);
    const approved = orders.filter((o) => o.orderState === 'APPROVED').length;
    await waitUntil(async () => (await api.call('GET', `/customers/${customerId}`)).body.availableCredit?.amount === (100000 - approved).toFixed(2), 60_000);
  }, 400_000);
});
