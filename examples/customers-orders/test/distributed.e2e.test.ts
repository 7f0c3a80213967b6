import { execFileSync, spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceAvailable, services } from '@concord/core/testing';
import { dropPostgresDatabase } from '@concord/postgres';
import { deleteKeysWithPrefix } from '@concord/redis';
import { connect as amqpConnect } from 'amqplib';
import { Redis } from 'ioredis';
import { connect as natsConnect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoClient, waitUntil } from './demo-client.js';
import { spawnDemo, type DemoProcess } from './demo-process.js';

const PG = 'postgres://postgres@127.0.0.1:5432';
const launcher = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'distributed', 'main.ts');
const available =
  (await serviceAvailable(services.postgres)) &&
  (await serviceAvailable(services.nats)) &&
  (await serviceAvailable(services.rabbitmq)) &&
  (await serviceAvailable(services.redis));

const brokers = [
  { name: 'nats', url: 'nats://127.0.0.1:4222' },
  { name: 'rabbitmq', url: 'amqp://guest:guest@127.0.0.1:5672' },
  { name: 'redis', url: 'redis://127.0.0.1:6379' },
] as const;

/** Deletes whatever the broker created under `prefix` in the service processes. */
async function cleanBroker(name: (typeof brokers)[number]['name'], prefix: string): Promise<void> {
  if (name === 'redis') {
    const redis = new Redis('redis://127.0.0.1:6379');
    await deleteKeysWithPrefix(redis, `${prefix}:`);
    redis.disconnect();
  } else if (name === 'nats') {
    const nc = await natsConnect({ servers: '127.0.0.1:4222' });
    const jsm = await jetstreamManager(nc);
    for await (const stream of jsm.streams.names()) if (stream.startsWith(prefix)) await jsm.streams.delete(stream);
    await nc.close();
  } else {
    const list = (kind: string) =>
      execFileSync('rabbitmqctl', [`list_${kind}`, '-q', '--no-table-headers', 'name'], { encoding: 'utf8' })
        .split('\n')
        .map((l) => l.trim())
        .filter((n) => n.startsWith(prefix));
    const conn = await amqpConnect('amqp://guest:guest@127.0.0.1:5672');
    const ch = await conn.createChannel();
    for (const q of list('queues')) await ch.deleteQueue(q);
    for (const x of list('exchanges')) await ch.deleteExchange(x);
    await conn.close();
  }
}

describe.skipIf(!available).each(brokers)('distributed demo on PostgreSQL + $name', ({ name, url }) => {
  const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const base = `cdist_${name}_${id}`;
  const prefix = `cd-${name}-${id}`;
  let demo: DemoProcess | undefined;
  let api: DemoClient;

  beforeAll(async () => {
    demo = await spawnDemo(
      // Info level: the launcher logs where each instance listens (read by a test below).
      { CONCORD_DATABASE_URL: `${PG}/${base}`, CONCORD_BROKER_URL: url, CONCORD_BROKER_PREFIX: prefix, CONCORD_LOG_LEVEL: 'info' },
      { script: 'distributed', echoStderr: true },
    );
    api = new DemoClient(demo.url);
  }, 200_000);

  afterAll(async () => {
    await demo?.stop();
    for (const service of ['customer_service', 'order_service', 'order_history']) {
      await dropPostgresDatabase(`${PG}/${base}_${service}`).catch(() => {});
    }
    await cleanBroker(name, prefix);
  }, 60_000);

  it('runs the create-order saga across processes: approve, reject, credit and order history', async () => {
    const customerId = await api.createCustomer('Fred', '100.00');
    const within = await api.createOrder(customerId, '40.00');
    const over = await api.createOrder(customerId, '80.00');
    const unknown = await api.createOrder(9_999_999, '1.00');
    expect(await api.awaitFinal(within)).toMatchObject({ orderState: 'APPROVED' });
    expect(await api.awaitFinal(over)).toMatchObject({ orderState: 'REJECTED', rejectionReason: 'INSUFFICIENT_CREDIT' });
    expect(await api.awaitFinal(unknown)).toMatchObject({ orderState: 'REJECTED', rejectionReason: 'UNKNOWN_CUSTOMER' });
    expect((await api.call('GET', `/customers/${customerId}`)).body.availableCredit).toEqual({ amount: '60.00' });
    const history = await waitUntil(async () => {
      const r = await api.call('GET', `/customers/${customerId}/orderhistory`);
      const orders = Object.values((r.body?.orders ?? {}) as Record<string, { state: string }>);
      return r.status === 200 && orders.length === 2 && orders.every((o) => o.state !== 'PENDING') ? r.body : undefined;
    });
    expect(history.orders[String(within)].state).toBe('APPROVED');
    expect((await api.call('GET', `/sagas/create-order-${over}`)).body.status).toBe('COMPENSATED');
  });

  it('keeps Idempotency-Key and cancel semantics across instances', async () => {
    const customerId = await api.createCustomer('Idem', '10.00');
    const first = await api.createOrder(customerId, '3.00', `dist-${id}`);
    expect(await api.createOrder(customerId, '3.00', `dist-${id}`)).toBe(first);
    expect((await api.awaitFinal(first)).orderState).toBe('APPROVED');
    expect((await api.call('POST', `/orders/${first}/cancel`)).body).toEqual({ orderId: first, orderState: 'CANCELLED' });
    await waitUntil(async () => (await api.call('GET', `/customers/${customerId}`)).body.availableCredit.amount === '10.00');
  });

  it("sweeps retention in every service instance and shows it on the instance's /metrics", async () => {
    const instances = demo!
      .stdout()
      .split('\n')
      .filter((line) => line.includes('service instance listening'))
      .map((line) => JSON.parse(line) as { service: string; instance: number; url: string });
    expect(instances.map((i) => `${i.service}#${i.instance}`).sort()).toEqual([
      'customer-service#1',
      'customer-service#2',
      'order-history#1',
      'order-history#2',
      'order-service#1',
      'order-service#2',
    ]);
    for (const { service, url: instance } of instances) {
      const text = await (await fetch(`${instance}/metrics`)).text();
      const swept = /^concord_retention_last_sweep_timestamp_seconds\{service="([^"]+)"\} (\S+)$/m.exec(text);
      expect(swept?.[1]).toBe(service);
      expect(Number(swept?.[2])).toBeGreaterThan(Date.now() / 1000 - 600);
      expect(text).toMatch(new RegExp(`^concord_retention_failed_tasks\\{service="${service}"\\} 0$`, 'm'));
    }
  });

  it('never reserves more than the credit limit under 100 concurrent orders spread over both order instances', async () => {
    const customerId = await api.createCustomer('Busy', '50.00');
    const ids = await Promise.all(Array.from({ length: 100 }, () => api.createOrder(customerId, '1.00')));
    const finals = await Promise.all(ids.map((o) => api.awaitFinal(o)));
    expect(finals.filter((f) => f.orderState === 'APPROVED')).toHaveLength(50);
    expect((await api.call('GET', `/customers/${customerId}`)).body.availableCredit).toEqual({ amount: '0.00' });
  });
});

describe.skipIf(!available)('the distributed launcher on a taken port', () => {
  it('stops with an error naming the address instead of restarting the service forever', async () => {
    const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const base = `cdist_taken_${id}`;
    // Hold the port the first customer-service instance is given (PORT + 1).
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const taken = (holder.address() as AddressInfo).port;
    const started = Date.now();
    try {
      const launched = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', launcher], {
        env: {
          ...process.env,
          PORT: String(taken - 1),
          CONCORD_DATABASE_URL: `${PG}/${base}`,
          CONCORD_BROKER_PREFIX: `cd-taken-${id}`,
          CONCORD_LOG_LEVEL: 'error',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      launched.stderr!.on('data', (c: Buffer) => (stderr += c));
      const code = await new Promise<number | null>((r) => launched.once('exit', (c) => r(c)));
      expect(code).toBe(1);
      expect(stderr).toContain(`customer-service#1: 127.0.0.1:${taken} is already in use`);
      expect(Date.now() - started).toBeLessThan(60_000);
    } finally {
      holder.close();
      for (const service of ['customer_service', 'order_service', 'order_history']) {
        await dropPostgresDatabase(`${PG}/${base}_${service}`).catch(() => {});
      }
      await cleanBroker('nats', `cd-taken-${id}`);
    }
  }, 90_000);
});
