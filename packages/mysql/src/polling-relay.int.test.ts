import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, type SqlBroker } from '@concord/core';
import { counterEvent, eventually, serviceAvailable, services, uniqueName } from '@concord/core/testing';
import { MysqlPollingRelay, openMysqlBroker, openMysqlStore, type MysqlStore } from './index.js';
import { createEffectsTable, effectsConsumer, effectsOf, expectExactlyOnceInOrder } from './testing/effects.js';
import { createTestDatabase, type TestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.mariadb);
const here = dirname(fileURLToPath(import.meta.url));
const brokerTimings = { leaseMs: 3_000, pollIntervalMs: 50, logger: silentLogger };

describe.skipIf(!available)('polling relay on MariaDB', () => {
  let db: TestDatabase;
  const closing: Array<{ close(): Promise<void> }> = [];
  const open = async <T extends { close(): Promise<void> }>(p: Promise<T>) => {
    const v = await p;
    closing.push(v);
    return v;
  };
  const openStore = () => open(openMysqlStore({ connectionString: db.uri, logger: silentLogger }));
  const openBroker = () => open(openMysqlBroker({ connectionString: db.uri, ...brokerTimings }));

  beforeAll(async () => {
    db = await createTestDatabase('polling');
  });
  afterAll(async () => {
    for (const c of closing.reverse()) await c.close().catch(() => {});
    await db?.drop();
  });

  it('three relay instances share the outbox shards and keep per-key order: none lost, none applied twice', async () => {
    const channel = uniqueName('shared');
    const Counted = counterEvent(channel);
    const producer = await openStore();
    const consumerStore = await openStore();
    await createEffectsTable(consumerStore);
    const broker = await openBroker();
    const consumer = effectsConsumer('shared-consumer', consumerStore, broker, channel);
    await consumer.start();

    const relays = await Promise.all(
      [0, 1, 2].map(async () => {
        const store = await openStore();
        return new MysqlPollingRelay({ store, broker: await openBroker(), logger: silentLogger, pollIntervalMs: 20, batchSize: 100, shardLeases: { rebalanceEveryMs: 200 } });
      }),
    );
    for (const r of relays) r.start();

    const keys = 16;
    const perKey = 60;
    for (let seq = 0; seq < perKey; seq++) {
      await Promise.all(Array.from({ length: keys }, (_, k) => producer.transaction((tx) => tx.outbox.send(Counted, { key: `key-${k}`, seq }))));
    }
    await eventually(async () => (await effectsOf(consumerStore)).length >= keys * perKey, 30_000, 100);

    const owned = await Promise.all(relays.map((r) => r.leases!.owned()));
    expect(owned.every((o) => o.length > 0)).toBe(true);
    expect(new Set(owned.flat()).size).toBe(owned.flat().length);
    expect(owned.flat().length).toBe(32);
    expect(relays.every((r) => r.getStats().published > 0)).toBe(true);

    await new Promise((r) => setTimeout(r, 300));
    expectExactlyOnceInOrder(await effectsOf(consumerStore), keys, perKey);
    for (const r of relays) await r.stop();
    await consumer.stop();
  });

  it('a relay that stops hands its shards to the others', async () => {
    const stores = [await openStore(), await openStore()];
    const broker = await openBroker();
    const [a, b] = stores.map((store) => new MysqlPollingRelay({ store, broker, logger: silentLogger, shardLeases: { rebalanceEveryMs: 50 } }));
    a!.start();
    b!.start();
    await eventually(async () => (await a!.leases!.owned()).length === 16 && (await b!.leases!.owned()).length === 16, 10_000, 50);
    await a!.stop();
    await eventually(async () => (await b!.leases!.owned()).length === 32, 10_000, 50);
    await b!.stop();
  });

  it('a relay killed (SIGKILL) after the broker accepted a batch loses nothing once restarted: the duplicate is absorbed', async () => {
    const channel = uniqueName('crash');
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--conditions=development', join(here, 'testing', 'relay-crash.ts'), 'polling', db.uri, channel, '40'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(child.signal, child.stderr).toBe('SIGKILL');

    const store: MysqlStore = await openStore();
    const broker: SqlBroker = await openBroker();
    const copies = async () => {
      const rows = await broker.driver.run((exec) => exec.query<{ n: string }>('SELECT COUNT(*) AS n FROM concord_broker_messages WHERE channel = ?', [channel]));
      return Number(rows[0]!.n);
    };
    // The killed relay's batch reached the broker but is still unsent in the outbox.
    expect(await copies()).toBe(40);
    expect((await store.outbox.lag()).count).toBe(40);

    const relay = new MysqlPollingRelay({ store, broker, logger: silentLogger });
    expect(await relay.drain()).toBe(40);
    expect(await copies()).toBe(80);
    await relay.stop();

    await createEffectsTable(store);
    const consumer = effectsConsumer(uniqueName('crash-consumer'), store, broker, channel);
    await consumer.start();
    await eventually(async () => (await effectsOf(store)).filter((e) => e.k.startsWith('crash-')).length >= 40, 20_000, 50);
    await new Promise((r) => setTimeout(r, 300));
    expectExactlyOnceInOrder((await effectsOf(store)).filter((e) => e.k.startsWith('crash-')), 4, 10);
    await consumer.stop();
  });

  it('parks an undecodable outbox row with the reason; the rows behind it flow', async () => {
    const Counted = counterEvent(uniqueName('park'));
    const store = (await openStore()) as MysqlStore;
    const broker = await openBroker();
    await store.transaction(async (tx) => {
      for (let seq = 1; seq <= 3; seq++) await tx.outbox.send(Counted, { key: 'k', seq });
    });
    const [, bad] = await store.outbox.fetchUnsent(10);
    await store.driver.run((exec) => exec.execute(`UPDATE ${store.driver.dialect.table('outbox')} SET payload = ? WHERE position = ?`, ['{oops', bad!.position]));
    const got: number[] = [];
    const sub = await broker.subscribe({
      group: uniqueName('g'),
      channels: [Counted.channel],
      handler: async (b) => void got.push(...b.messages.map((m) => (m.payload as { seq: number }).seq)),
    });
    const relay = new MysqlPollingRelay({ store, broker, logger: silentLogger, pollIntervalMs: 50 });
    relay.start();
    try {
      await eventually(() => got.length === 2, 15_000);
      expect(got).toEqual([1, 3]);
      const [parked] = await store.parkedOutbox.list();
      expect(parked).toMatchObject({ messageId: bad!.envelope.id, payload: '{oops' });
      expect(parked!.error).toMatch(/cannot decode outbox row/);
    } finally {
      await relay.stop();
      await sub.close();
    }
  });
});
