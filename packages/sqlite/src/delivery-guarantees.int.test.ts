import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MessageConsumer, OutboxRelay, silentLogger, type SqlStore } from '@concord/core';
import { counterEvent, eventually, uniqueName } from '@concord/core/testing';
import { openSqliteBroker, openSqliteStore, type SqliteDatabase } from './index.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'concord-guarantees-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A consumer-side business table: one row per applied effect, no unique key, so a double apply shows. */
async function openConsumerStore(filename: string): Promise<SqlStore<SqliteDatabase>> {
  const store = await openSqliteStore({ filename });
  await store.transaction((tx) =>
    tx.handle.exec('CREATE TABLE IF NOT EXISTS effects (n INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT, k TEXT, seq INTEGER)'),
  );
  return store;
}

function consumer(name: string, store: SqlStore<SqliteDatabase>, broker: Awaited<ReturnType<typeof openSqliteBroker>>, channel: string) {
  return new MessageConsumer({ name, store, broker, logger: silentLogger }).handle(counterEvent(channel), (tx, p, m) => {
    tx.handle.prepare('INSERT INTO effects (message_id, k, seq) VALUES (?, ?, ?)').run(m.id, p.key, p.seq);
  });
}

function effects(store: SqlStore<SqliteDatabase>) {
  return store.transaction((tx) => tx.handle.prepare('SELECT message_id, k, seq FROM effects ORDER BY n').all() as Array<{ message_id: string; k: string; seq: number }>);
}

describe('delivery guarantees on SQLite files', () => {
  it('a relay killed (SIGKILL) between publish and mark-sent causes a duplicate that the consumer absorbs', async () => {
    const storeFile = join(dir, 'producer.db');
    const brokerFile = join(dir, 'broker-a.db');
    const channel = uniqueName('crash');
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--conditions=development', join(here, 'testing', 'crash-after-publish.ts'), storeFile, brokerFile, channel, '40'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(child.signal, child.stderr).toBe('SIGKILL');

    const store = await openSqliteStore({ filename: storeFile });
    const broker = await openSqliteBroker({ filename: brokerFile, logger: silentLogger, pollIntervalMs: 20 });
    // The killed relay's batch reached the broker but is still unsent in the outbox.
    expect((await store.outbox.lag()).count).toBe(40);
    const relay = new OutboxRelay({ store, broker, logger: silentLogger });
    expect(await relay.drain()).toBe(40);
    const copies = await broker.driver.run((exec) =>
      exec.query<{ n: number }>('SELECT COUNT(*) AS n FROM concord_broker_messages WHERE channel = ?', [channel]),
    );
    expect(copies[0]!.n).toBe(80);

    const target = await openConsumerStore(join(dir, 'consumer-a.db'));
    const c = consumer('crash-consumer', target, broker, channel);
    await c.start();
    await eventually(async () => (await effects(target)).length >= 40);
    await new Promise((r) => setTimeout(r, 300));
    const rows = await effects(target);
    expect(rows).toHaveLength(40);
    expect(new Set(rows.map((r) => r.message_id)).size).toBe(40);
    await c.stop();
    await broker.close();
    await store.close();
    await target.close();
  });

  it('10,000 messages over 16 keys with 4 concurrent consumers: in order per key, none lost, none applied twice', async () => {
    const channel = uniqueName('order');
    const producer = await openSqliteStore({ filename: join(dir, 'producer-b.db') });
    const brokerFile = join(dir, 'broker-b.db');
    const consumerFile = join(dir, 'consumer-b.db');
    const Counted = counterEvent(channel);
    const brokers = await Promise.all(
      [0, 1, 2, 3].map(() => openSqliteBroker({ filename: brokerFile, logger: silentLogger, leaseMs: 1_000, pollIntervalMs: 20 })),
    );
    const stores = await Promise.all([0, 1, 2, 3].map(() => openConsumerStore(consumerFile)));
    const consumers = brokers.map((b, i) => consumer('order-consumer', stores[i]!, b, channel));
    for (const c of consumers) await c.start();
    const relay = new OutboxRelay({ store: producer, broker: brokers[0]!, logger: silentLogger });
    relay.start();

    const total = 10_000;
    for (let i = 0; i < total; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) =>
          producer.transaction((tx) => tx.outbox.send(Counted, { key: `key-${(i + j) % 16}`, seq: Math.floor((i + j) / 16) })),
        ),
      );
    }
    await eventually(async () => (await effects(stores[0]!)).length >= total, 120_000, 200);
    await eventually(() => consumers.every((c) => c.assignedPartitions().length > 0), 10_000);
    const rows = await effects(stores[0]!);
    expect(rows).toHaveLength(total);
    expect(new Set(rows.map((r) => r.message_id)).size).toBe(total);
    const byKey = new Map<string, number[]>();
    for (const r of rows) byKey.set(r.k, [...(byKey.get(r.k) ?? []), r.seq]);
    expect(byKey.size).toBe(16);
    for (const [, seqs] of byKey) expect(seqs).toEqual(Array.from({ length: total / 16 }, (_, i) => i));

    await relay.stop();
    for (const c of consumers) await c.stop();
    for (const b of brokers) await b.close();
    for (const s of stores) await s.close();
    await producer.close();
  });

  it('a poison message inside a batch is tried exactly maxAttempts times, and the messages around it keep their order', async () => {
    const channel = uniqueName('poison');
    const Counted = counterEvent(channel);
    const producer = await openSqliteStore({ filename: join(dir, 'producer-c.db') });
    const broker = await openSqliteBroker({ filename: join(dir, 'broker-c.db'), logger: silentLogger, partitions: 1, pollIntervalMs: 20 });
    const target = await openConsumerStore(join(dir, 'consumer-c.db'));
    for (let i = 0; i < 20; i++) {
      await producer.transaction((tx) => tx.outbox.send(Counted, { key: 'k', seq: i, ...(i === 7 ? { fail: true } : {}) }));
    }
    // everything is in the broker before the consumer starts, so it arrives as one batch
    await new OutboxRelay({ store: producer, broker, logger: silentLogger }).drain();
    let poisonCalls = 0;
    const c = new MessageConsumer({
      name: 'poison-consumer',
      store: target,
      broker,
      logger: silentLogger,
      maxAttempts: 3,
      backoff: { initialMs: 1, maxMs: 5, multiplier: 2, jitter: 0 },
    }).handle(Counted, (tx, p, m) => {
      if (p.fail) {
        poisonCalls++;
        throw new Error('poison');
      }
      tx.handle.prepare('INSERT INTO effects (message_id, k, seq) VALUES (?, ?, ?)').run(m.id, p.key, p.seq);
    });
    await c.start();
    await eventually(async () => (await effects(target)).length === 19);
    expect(poisonCalls).toBe(3);
    expect((await effects(target)).map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(await target.deadLetters.list({ consumer: 'poison-consumer' })).toHaveLength(1);
    await c.stop();
    await broker.close();
    await producer.close();
    await target.close();
  });
});
