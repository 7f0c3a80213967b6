import type { PoolConnection } from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@concord/core';
import { counterEvent, eventually, serviceAvailable, services, uniqueName } from '@concord/core/testing';
import {
  MysqlConfigError,
  MysqlConfigReason,
  createMysqlRelay,
  openMysqlBroker,
  openMysqlStore,
  type MysqlStore,
} from './index.js';
import { mysqlErrno } from './spi.js';
import { createEffectsTable, effectsConsumer, effectsOf, expectExactlyOnceInOrder } from './testing/effects.js';
import { startMariadb, stopMariadb } from './testing/mariadb-server.js';
import { createTestDatabase, TEST_SERVER_URI } from './testing/test-database.js';
import mysql from 'mysql2/promise';

const available = await serviceAvailable(services.mariadb);

/**
 * Commits message `i` with a business row keyed by `i`, retrying until it is known to be in:
 * a commit whose answer was lost shows up as a duplicate business key on the retry.
 */
async function produce(store: MysqlStore, channel: string, i: number, keys: number): Promise<void> {
  const Counted = counterEvent(channel);
  for (;;) {
    try {
      await store.transaction(async (tx) => {
        await (tx.handle as PoolConnection).query('INSERT INTO orders (id) VALUES (?)', [i]);
        await tx.outbox.send(Counted, { key: `k${i % keys}`, seq: Math.floor(i / keys) });
      });
      return;
    } catch (error) {
      if (mysqlErrno(error) === 1062) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe.skipIf(!available)('MariaDB stopped and started under load', () => {
  afterAll(async () => {
    await startMariadb();
  });

  for (const mode of ['polling', 'tailing'] as const) {
    it(`${mode} relay, in-database broker and consumer recover by themselves: nothing lost, nothing applied twice, order kept`, async () => {
      const db = await createTestDatabase(`chaos_${mode}`);
      const store = await openMysqlStore({ connectionString: db.uri, logger: silentLogger });
      const broker = await openMysqlBroker({ connectionString: db.uri, leaseMs: 3_000, pollIntervalMs: 50, logger: silentLogger });
      const channel = uniqueName('chaos');
      await createEffectsTable(store);
      await store.driver.run((exec) => exec.execute('CREATE TABLE orders (id INT PRIMARY KEY)'));
      const relay = await createMysqlRelay({ mode, store, broker, logger: silentLogger, pollIntervalMs: 50 });
      const consumer = effectsConsumer('chaos-consumer', store, broker, channel);
      try {
        relay.start();
        await consumer.start();
        const total = 600;
        const keys = 8;
        let produced = 0;
        const producing = (async () => {
          for (let i = 0; i < total; i++) {
            await produce(store, channel, i, keys);
            produced++;
          }
        })();
        // The server goes away while the producer, the relay and the consumer are all busy.
        await eventually(() => produced >= 200, 60_000, 10);
        await stopMariadb();
        await new Promise((r) => setTimeout(r, 1_000));
        await startMariadb();
        const producedAtRestart = produced;
        await producing;
        expect(producedAtRestart).toBeLessThan(total);
        await eventually(async () => (await effectsOf(store)).length >= total, 180_000, 500);
        await new Promise((r) => setTimeout(r, 1_000));
        expectExactlyOnceInOrder(
          (await effectsOf(store)).map((e) => ({ ...e, k: String(e.k) })),
          keys,
          total / keys,
        );
        const [orders] = await store.driver.run((exec) => exec.query<{ n: string }>('SELECT COUNT(*) AS n FROM orders'));
        expect(Number(orders!.n)).toBe(total);
        await eventually(async () => (await relay.lag()).count === 0, 30_000, 200);
        // The outage did reach the relay: it failed at least once and came back by itself.
        expect(relay.getStats().failures).toBeGreaterThan(0);
      } finally {
        await startMariadb();
        await consumer.stop().catch(() => {});
        await relay.stop().catch(() => {});
        await broker.close().catch(() => {});
        await store.close().catch(() => {});
        await db.drop().catch(() => {});
      }
    });
  }

  it('refuses to create a tailing relay while the server logs statements, with a typed error', async () => {
    const db = await createTestDatabase('chaos_format');
    const store = await openMysqlStore({ connectionString: db.uri, logger: silentLogger });
    const admin = await mysql.createConnection({ uri: TEST_SERVER_URI });
    try {
      for (const format of ['STATEMENT', 'MIXED']) {
        await admin.query(`SET GLOBAL binlog_format = '${format}'`);
        const broker = await openMysqlBroker({ connectionString: db.uri, logger: silentLogger });
        const error = await createMysqlRelay({ mode: 'tailing', store, broker, logger: silentLogger }).catch((e: unknown) => e);
        await broker.close();
        expect(error).toBeInstanceOf(MysqlConfigError);
        expect((error as MysqlConfigError).reason).toBe(MysqlConfigReason.BINLOG_NOT_ROW);
        expect((error as MysqlConfigError).message).toContain(`binlog_format is ${format}`);
      }
    } finally {
      await admin.query("SET GLOBAL binlog_format = 'ROW'");
      await admin.end();
      await store.close();
      await db.drop();
    }
  });
});
