import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, type SqlBroker } from '@concord/core';
import { counterEvent, eventually, serviceAvailable, services, uniqueName } from '@concord/core/testing';
import { MysqlBinlogRelay, createMysqlRelay, openMysqlBroker, openMysqlStore, type MysqlStore } from './index.js';
import { BinlogPositions } from './spi.js';
import { createEffectsTable, effectsConsumer, effectsOf, expectExactlyOnceInOrder } from './testing/effects.js';
import { createTestDatabase, type TestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.mariadb);
const here = dirname(fileURLToPath(import.meta.url));

describe.skipIf(!available)('binlog-tailing relay on MariaDB', () => {
  let db: TestDatabase;
  let store: MysqlStore;
  let broker: SqlBroker;
  const relays: MysqlBinlogRelay[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('binlog');
    store = await openMysqlStore({ connectionString: db.uri, logger: silentLogger });
    broker = await openMysqlBroker({ connectionString: db.uri, leaseMs: 1_000, pollIntervalMs: 20, logger: silentLogger });
    await createEffectsTable(store);
  });
  afterAll(async () => {
    for (const r of relays) await r.stop().catch(() => {});
    await broker?.close();
    await store?.close();
    await db?.drop();
  });

  async function relay(name: string, batchSize = 100): Promise<MysqlBinlogRelay> {
    const r = await createMysqlRelay({ mode: 'tailing', store, broker, name, batchSize, logger: silentLogger });
    relays.push(r);
    return r;
  }

  async function consume(channel: string) {
    const consumer = effectsConsumer(uniqueName('c'), store, broker, channel);
    await consumer.start();
    const effects = async () => (await effectsOf(store)).filter((e) => e.k.startsWith(`${channel}:`));
    return { consumer, effects };
  }

  async function copiesInBroker(channel: string): Promise<number> {
    const rows = await broker.driver.run((exec) => exec.query<{ n: string }>('SELECT COUNT(*) AS n FROM concord_broker_messages WHERE channel = ?', [channel]));
    return Number(rows[0]!.n);
  }

  it('publishes rows already in the outbox at first start, then what it reads from the log; deletes what it published', async () => {
    const channel = uniqueName('boot');
    const Counted = counterEvent(channel);
    for (let seq = 0; seq < 5; seq++) await store.transaction((tx) => tx.outbox.send(Counted, { key: `${channel}:a`, seq }));
    const r = await relay(uniqueName('boot'));
    r.start();
    await r.whenTailing();
    expect(r.getStats()).toMatchObject({ bootstraps: 1, published: 5 });
    for (let seq = 5; seq < 10; seq++) await store.transaction((tx) => tx.outbox.send(Counted, { key: `${channel}:a`, seq }));
    const { consumer, effects } = await consume(channel);
    await eventually(async () => (await effects()).length === 10, 10_000);
    expectExactlyOnceInOrder(await effects(), 1, 10);
    await eventually(async () => (await store.outbox.lag()).count === 0);
    await r.stop();
    await consumer.stop();
  });

  it('keeps per-key order under concurrent producers (16 keys x 40)', async () => {
    const channel = uniqueName('order');
    const Counted = counterEvent(channel);
    const r = await relay(uniqueName('order'));
    r.start();
    await r.whenTailing();
    const { consumer, effects } = await consume(channel);
    for (let seq = 0; seq < 40; seq++) {
      await Promise.all(Array.from({ length: 16 }, (_, k) => store.transaction((tx) => tx.outbox.send(Counted, { key: `${channel}:${k}`, seq }))));
    }
    await eventually(async () => (await effects()).length >= 640, 20_000, 50);
    await new Promise((res) => setTimeout(res, 200));
    expectExactlyOnceInOrder(await effects(), 16, 40);
    expect(r.getStats().bootstraps).toBe(1);
    await r.stop();
    await consumer.stop();
  });

  it('stopped mid-stream, a new relay resumes from the saved position: nothing lost, no bootstrap', async () => {
    const channel = uniqueName('resume');
    const Counted = counterEvent(channel);
    const name = uniqueName('resume');
    const first = await relay(name, 10);
    first.start();
    await first.whenTailing();
    const producing = (async () => {
      for (let seq = 0; seq < 300; seq++) {
        await store.transaction((tx) => tx.outbox.send(Counted, { key: `${channel}:${seq % 3}`, seq: Math.floor(seq / 3) }));
      }
    })();
    await eventually(async () => (await copiesInBroker(channel)) >= 60, 20_000, 5);
    await first.stop();
    const publishedBeforeStop = await copiesInBroker(channel);
    expect(publishedBeforeStop).toBeLessThan(300);
    const saved = await new BinlogPositions(store.driver).load(name);
    expect(saved?.file).toMatch(/bin/);
    await producing;

    const second = await relay(name, 50);
    second.start();
    const { consumer, effects } = await consume(channel);
    await eventually(async () => (await effects()).length >= 300, 20_000, 50);
    await new Promise((res) => setTimeout(res, 200));
    expectExactlyOnceInOrder(await effects(), 3, 100);
    expect(second.getStats().bootstraps).toBe(0);
    await eventually(async () => (await store.outbox.lag()).count === 0);
    const after = await new BinlogPositions(store.driver).load(name);
    expect(after!.file > saved!.file || (after!.file === saved!.file && after!.position > saved!.position)).toBe(true);
    await second.stop();
    await consumer.stop();
  });

  it('a relay killed (SIGKILL) after the broker accepted a batch resumes from its saved position: the duplicate is absorbed', async () => {
    const channel = uniqueName('crash');
    const crashDb = await createTestDatabase('binlog_crash');
    try {
      const child = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--conditions=development', join(here, 'testing', 'relay-crash.ts'), 'tailing', crashDb.uri, channel, '40'],
        { encoding: 'utf8', timeout: 60_000 },
      );
      expect(child.signal, child.stderr).toBe('SIGKILL');
      const crashStore = await openMysqlStore({ connectionString: crashDb.uri, logger: silentLogger });
      const crashBroker = await openMysqlBroker({ connectionString: crashDb.uri, leaseMs: 1_000, pollIntervalMs: 20, logger: silentLogger });
      try {
        const copies = async () => {
          const rows = await crashBroker.driver.run((exec) => exec.query<{ n: string }>('SELECT COUNT(*) AS n FROM concord_broker_messages WHERE channel = ?', [channel]));
          return Number(rows[0]!.n);
        };
        expect(await copies()).toBe(40);
        expect((await crashStore.outbox.lag()).count).toBe(40);
        const r = await createMysqlRelay({ mode: 'tailing', store: crashStore, broker: crashBroker, logger: silentLogger });
        relays.push(r);
        r.start();
        await eventually(async () => (await copies()) === 80, 10_000);
        await eventually(async () => (await crashStore.outbox.lag()).count === 0);
        expect(r.getStats().bootstraps).toBe(0);
        await r.stop();
        await createEffectsTable(crashStore);
        const consumer = effectsConsumer('crash-consumer', crashStore, crashBroker, channel);
        await consumer.start();
        await eventually(async () => (await effectsOf(crashStore)).length >= 40, 10_000);
        await new Promise((res) => setTimeout(res, 200));
        const rows = (await effectsOf(crashStore)).map((e) => ({ ...e, k: `${channel}:${e.k}` }));
        expectExactlyOnceInOrder(rows, 4, 10);
        await consumer.stop();
      } finally {
        await crashBroker.close();
        await crashStore.close();
      }
    } finally {
      await crashDb.drop();
    }
  });

  it('one relay per name is active; a standby takes over when it stops', async () => {
    const channel = uniqueName('standby');
    const Counted = counterEvent(channel);
    const name = uniqueName('standby');
    const active = await relay(name);
    active.start();
    await active.whenTailing();
    const standby = await relay(name);
    standby.start();
    await expect(standby.whenTailing(500)).rejects.toThrow(/not tailing/);
    await active.stop();
    await standby.whenTailing(10_000);
    const { consumer, effects } = await consume(channel);
    await store.transaction((tx) => tx.outbox.send(Counted, { key: `${channel}:a`, seq: 0 }));
    await eventually(async () => (await effects()).length === 1, 10_000);
    await standby.stop();
    await consumer.stop();
  });

  it('a saved position the server no longer has leads to a new bootstrap, not to a stuck relay', async () => {
    const channel = uniqueName('purged');
    const Counted = counterEvent(channel);
    const name = uniqueName('purged');
    const positions = new BinlogPositions(store.driver);
    await store.driver.transaction((exec) => positions.save(exec, name, { file: 'mysql-bin.999999', position: 4 }, Date.now()));
    await store.transaction((tx) => tx.outbox.send(Counted, { key: `${channel}:a`, seq: 0 }));
    const r = await relay(name);
    r.start();
    const { consumer, effects } = await consume(channel);
    await eventually(async () => (await effects()).length === 1, 15_000);
    await r.whenTailing(10_000);
    expect(r.getStats().bootstraps).toBe(1);
    expect(r.getStats().failures).toBeGreaterThanOrEqual(1);
    await store.transaction((tx) => tx.outbox.send(Counted, { key: `${channel}:a`, seq: 1 }));
    await eventually(async () => (await effects()).length === 2, 10_000);
    await r.stop();
    await consumer.stop();
  });

  it('an outbox insert logged as a statement (session binlog_format) is still published, from the table', async () => {
    const channel = uniqueName('stmt');
    const Counted = counterEvent(channel);
    const r = await relay(uniqueName('stmt'));
    r.start();
    await r.whenTailing();
    const { consumer, effects } = await consume(channel);
    await store.transaction((tx) => tx.outbox.send(Counted, { key: `${channel}:a`, seq: 0 }));
    await eventually(async () => (await effects()).length === 1, 10_000);

    // A session that logs statements: the row's values never reach the log as a row event.
    const pool = mysql.createPool({ uri: db.uri, flags: ['-FOUND_ROWS'], connectionLimit: 1 });
    const statementStore = await openMysqlStore({ pool, logger: silentLogger });
    const conn = await pool.getConnection();
    await conn.query("SET SESSION binlog_format = 'STATEMENT'");
    conn.release();
    await statementStore.transaction((tx) => tx.outbox.send(Counted, { key: `${channel}:a`, seq: 1 }));
    await store.transaction((tx) => tx.outbox.send(Counted, { key: `${channel}:a`, seq: 2 }));
    await eventually(async () => (await effects()).length === 3, 10_000);
    expectExactlyOnceInOrder(await effects(), 1, 3);
    await eventually(async () => (await store.outbox.lag()).count === 0);
    await pool.end();
    await r.stop();
    await consumer.stop();
  });
});
