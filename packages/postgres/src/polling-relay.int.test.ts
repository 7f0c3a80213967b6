import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageRejectedError, silentLogger, type Subscription } from '@concord/core';
import { counterEvent, eventually, serviceAvailable, services, uniqueName } from '@concord/core/testing';
import { openPostgresBroker, openPostgresStore, PostgresPollingRelay, type PostgresBroker, type PostgresStore } from './index.js';
import { kill, startScript } from './testing/child-process.js';
import { produce } from './testing/produce.js';
import { DeliveryRecorder } from './testing/recorder.js';
import { createTestDatabase, type TestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.postgres);

describe.skipIf(!available)('postgres polling relay', () => {
  let db: TestDatabase;
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    db = await createTestDatabase('poll');
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await db?.drop();
  });

  async function open(storeSchema: string, brokerSchema: string): Promise<{ store: PostgresStore; broker: PostgresBroker }> {
    const store = await openPostgresStore({ connectionString: db.url, schema: storeSchema, poolSize: 4, logger: silentLogger });
    const broker = await openPostgresBroker({
      connectionString: db.url,
      schema: brokerSchema,
      poolSize: 6,
      leaseMs: 1_000,
      logger: silentLogger,
    });
    closers.push(() => store.close(), () => broker.close());
    return { store, broker };
  }

  async function consume(broker: PostgresBroker, channel: string): Promise<DeliveryRecorder> {
    const recorder = new DeliveryRecorder();
    const sub: Subscription = await broker.subscribe({ group: uniqueName('g'), channels: [channel], handler: recorder.handler });
    closers.push(() => sub.close());
    return recorder;
  }

  it('two instances split the shards and keep per-key order (5,000 messages, 16 keys)', async () => {
    const channel = uniqueName('two');
    const a = await open('two_store', 'two_broker');
    const b = await open('two_store', 'two_broker');
    const options = { broker: a.broker, logger: silentLogger, batchSize: 200, pollIntervalMs: 200, rebalanceIntervalMs: 200 };
    const first = new PostgresPollingRelay({ ...options, store: a.store });
    const second = new PostgresPollingRelay({ ...options, store: b.store, broker: b.broker });
    closers.push(() => first.stop(), () => second.stop());
    first.start();
    second.start();
    await eventually(() => first.ownedShards().length > 0 && second.ownedShards().length > 0, 10_000);
    await eventually(() => first.ownedShards().length + second.ownedShards().length === 32, 10_000);
    expect(first.ownedShards().filter((s) => second.ownedShards().includes(s))).toEqual([]);

    const recorder = await consume(a.broker, channel);
    await produce(a.store, channel, 16, 313, 50);
    const total = 16 * 313;
    await eventually(() => recorder.unique === total, 30_000);
    expect(recorder.outOfOrderKeys(313)).toEqual([]);
    expect(first.getStats().published).toBeGreaterThan(0);
    expect(second.getStats().published).toBeGreaterThan(0);
    expect(first.getStats().published + second.getStats().published).toBeGreaterThanOrEqual(total);
    expect((await first.lag()).count).toBe(0);
  });

  it('a relay process killed with SIGKILL mid-stream and restarted loses nothing', async () => {
    const channel = uniqueName('kill');
    const { store, broker } = await open('kill_store', 'kill_broker');
    const total = 16 * 150;
    await produce(store, channel, 16, 150, 400);
    const recorder = await consume(broker, channel);
    const args = [db.url, 'kill_store', 'kill_broker', '50', '30'];

    const child = await startScript('polling-relay-process.ts', args);
    closers.push(() => kill(child));
    await eventually(async () => (await store.outbox.lag()).count < total - 150, 20_000, 5);
    await kill(child, 'SIGKILL');
    const left = (await store.outbox.lag()).count;
    expect(left).toBeGreaterThan(0); // it really died mid-stream

    const again = await startScript('polling-relay-process.ts', args);
    closers.push(() => kill(again));
    await eventually(async () => (await store.outbox.lag()).count === 0, 30_000);
    await eventually(() => recorder.unique === total, 20_000);
    expect(recorder.outOfOrderKeys(150)).toEqual([]);
    await kill(again, 'SIGTERM');
  });

  it('wakes on NOTIFY from another process at once', async () => {
    const channel = uniqueName('wake');
    const a = await open('wake_store', 'wake_broker');
    const writer = await openPostgresStore({ connectionString: db.url, schema: 'wake_store', poolSize: 2, logger: silentLogger });
    closers.push(() => writer.close());
    // Poll interval far above the time allowed: only the notification can be this quick.
    const relay = new PostgresPollingRelay({ store: a.store, broker: a.broker, logger: silentLogger, pollIntervalMs: 30_000 });
    closers.push(() => relay.stop());
    relay.start();
    await eventually(() => relay.ownedShards().length === 32, 10_000);
    const recorder = await consume(a.broker, channel);
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    await writer.transaction((tx) => tx.outbox.send(counterEvent(channel), { key: 'k', seq: 0 }));
    await eventually(() => recorder.unique === 1, 5_000, 5);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('parks an undecodable row and a message the broker refuses; the rows behind them flow', async () => {
    const { store, broker } = await open('park_store', 'park_broker');
    const Counted = counterEvent(uniqueName('park'));
    await store.transaction(async (tx) => {
      for (let seq = 1; seq <= 4; seq++) await tx.outbox.send(Counted, { key: 'k', seq });
    });
    const rows = await store.outbox.fetchUnsent(10);
    await store.driver.run((exec) => exec.execute(`UPDATE ${store.schema}.outbox SET headers = ? WHERE position = ?`, ['[1]', rows[1]!.position]));
    // A broker that refuses message 3 for good, as NATS does with one over its max_payload.
    const refused = rows[2]!.envelope.id;
    const refusing: typeof broker = Object.create(broker);
    refusing.publish = async (messages) => {
      const bad = messages.find((m) => m.id === refused);
      if (bad) throw new MessageRejectedError(bad.id, 'too big for this broker');
      return broker.publish(messages);
    };
    const recorder = await consume(broker, Counted.channel);
    const relay = new PostgresPollingRelay({ store, broker: refusing, logger: silentLogger, pollIntervalMs: 50, rebalanceIntervalMs: 100 });
    closers.push(() => relay.stop());
    relay.start();
    await eventually(() => recorder.unique === 2, 15_000);
    expect(recorder.firstSeqs.get('k')).toEqual([1, 4]);
    const parked = await store.parkedOutbox.list();
    expect(parked.map((p) => p.outboxPosition)).toEqual([rows[1]!.position, rows[2]!.position]);
    expect(parked[0]!.error).toMatch(/headers are not an object of strings/);
    expect(parked[1]!.error).toMatch(/too big for this broker/);
    expect(relay.getStats().parked).toBe(2);
  });
});
