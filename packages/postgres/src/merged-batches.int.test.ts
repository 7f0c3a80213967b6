import { MessageConsumer, silentLogger, type SqlExecutor } from '@concord/core';
import { counterEvent, serviceAvailable, services, uniqueName } from '@concord/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresBroker, openPostgresStore, type PostgresBroker, type PostgresStore } from './index.js';
import { createTestDatabase, type TestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.postgres);

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.skipIf(!available)('a consumer merges batches of several partitions into one transaction', () => {
  let db: TestDatabase;
  let store: PostgresStore;
  let broker: PostgresBroker;

  beforeAll(async () => {
    db = await createTestDatabase('merged');
    store = await openPostgresStore({ connectionString: db.url, logger: silentLogger });
    broker = await openPostgresBroker({ connectionString: db.url, partitions: 16, logger: silentLogger });
  });
  afterAll(async () => {
    await broker?.close();
    await store?.close();
    await db?.drop();
  });

  /** Publishes one message per key straight to the broker, so every partition has work waiting. */
  async function publish(channel: string, keys: readonly string[]): Promise<void> {
    const Counted = counterEvent(channel);
    await broker.publish(
      keys.map((key, i) => ({
        id: `${channel}-${key}`,
        type: Counted.type,
        channel,
        partitionKey: key,
        headers: {},
        payload: { key, seq: i },
        schemaVersion: 1,
        createdAt: Date.now(),
      })),
    );
  }

  /** Starts the consumer, waits until it owns every partition and idles, publishes `keys` at once, and waits until `handled` has them all. */
  async function publishToIdleConsumer<H>(consumer: MessageConsumer<H>, channel: string, keys: readonly string[], handled: () => number): Promise<void> {
    await consumer.start();
    await until(() => consumer.assignedPartitions().length === 16);
    await new Promise((r) => setTimeout(r, 200));
    await publish(channel, keys);
    await until(() => handled() >= keys.length);
  }

  /**
   * Every partition owned and idle, then one publish of 32 keys wakes them all at once: the
   * transactions the consumer's handler saw, and the keys it applied.
   */
  async function onePublish(options: { maxMergedMessages?: number }): Promise<{ transactions: number; handled: string[]; keys: string[] }> {
    const channel = uniqueName('merge');
    const keys = Array.from({ length: 32 }, (_, i) => `key-${i}`);
    const transactions = new Set<SqlExecutor>();
    const handled: string[] = [];
    const consumer = new MessageConsumer({ name: uniqueName('merging'), store, broker, logger: silentLogger, ...options }).handle(counterEvent(channel), (tx, p) => {
      transactions.add(tx.sql);
      tx.afterCommit(() => handled.push(p.key));
    });
    try {
      await publishToIdleConsumer(consumer, channel, keys, () => handled.length);
      return { transactions: transactions.size, handled, keys };
    } finally {
      await consumer.stop();
    }
  }

  it('handles one publish to many partitions in few transactions, each message once', async () => {
    const { transactions, handled, keys } = await onePublish({});
    expect([...handled].sort()).toEqual([...keys].sort());
    // 32 keys over 16 partitions: one transaction per partition without merging.
    expect(transactions).toBeLessThanOrEqual(4);
  });

  it('with merging off, each partition has its own transaction', async () => {
    const { transactions, handled, keys } = await onePublish({ maxMergedMessages: 1 });
    expect([...handled].sort()).toEqual([...keys].sort());
    expect(transactions).toBeGreaterThanOrEqual(8);
  });

  it('a failure in a merged transaction costs the others nothing: each message once, the failing one retried as counted', async () => {
    const channel = uniqueName('merge-fail');
    const keys = Array.from({ length: 32 }, (_, i) => `key-${i}`);
    await publish(channel, keys);
    let failures = 0;
    const handled: string[] = [];
    const consumer = new MessageConsumer({
      name: uniqueName('merging-fail'),
      store,
      broker,
      logger: silentLogger,
      backoff: { initialMs: 1, maxMs: 1, multiplier: 1, jitter: 0 },
    }).handle(counterEvent(channel), (tx, p) => {
      if (p.key === 'key-7' && failures < 2) {
        failures++;
        throw new Error('fails twice');
      }
      tx.afterCommit(() => handled.push(p.key));
    });
    await consumer.start();
    try {
      await until(() => handled.length >= keys.length);
      await new Promise((r) => setTimeout(r, 200));
      expect([...handled].sort()).toEqual([...keys].sort());
      expect(failures).toBe(2);
      const attempts = await store.driver.run((exec) =>
        exec.query<{ attempts: number }>(`SELECT attempts FROM ${store.driver.dialect.table('attempts')} WHERE message_id = ?`, [`${channel}-key-7`]),
      );
      expect(attempts.map((a) => Number(a.attempts))).toEqual([2]);
    } finally {
      await consumer.stop();
    }
  });

  it("a handler's prepare sees the messages of its transaction at once, before any of them is handled", async () => {
    const channel = uniqueName('merge-prepare');
    const keys = Array.from({ length: 32 }, (_, i) => `key-${i}`);
    const prepared = new Map<SqlExecutor, string[]>();
    const handled: Array<{ key: string; seenByPrepare: boolean }> = [];
    const consumer = new MessageConsumer({ name: uniqueName('preparing'), store, broker, logger: silentLogger }).handle(
      counterEvent(channel),
      (tx, p) => {
        const seenByPrepare = prepared.get(tx.sql)?.includes(p.key) ?? false;
        tx.afterCommit(() => handled.push({ key: p.key, seenByPrepare }));
      },
      {
        prepare: async (tx, messages) => {
          // Statements here run in the handlers' transaction, before their own.
          await tx.sql.query('SELECT 1 AS one');
          prepared.set(tx.sql, messages.map((m) => (m.payload as { key: string }).key));
        },
      },
    );
    try {
      await publishToIdleConsumer(consumer, channel, keys, () => handled.length);
      expect(handled.map((h) => h.key).sort()).toEqual([...keys].sort());
      // Merged transactions hold several messages, all prepared together.
      expect(handled.filter((h) => h.seenByPrepare).length).toBeGreaterThanOrEqual(keys.length / 2);
      expect(Math.max(...[...prepared.values()].map((k) => k.length))).toBeGreaterThan(1);
    } finally {
      await consumer.stop();
    }
  });
});
