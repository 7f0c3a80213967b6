import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@concord/core';
import {
  describeBrokerConformance,
  describeMessagingConformance,
  describeStoreConformance,
  serviceAvailable,
  services,
  testEnvelope,
} from '@concord/core/testing';
import { openPostgresBroker, openPostgresStore } from './index.js';
import { createTestDatabase, type TestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.postgres);
const brokerTimings = { leaseMs: 3_000, pollIntervalMs: 200, logger: silentLogger };

// Each suite its own database, dropped by its cleanup.
let current: TestDatabase | undefined;
async function database(): Promise<TestDatabase> {
  current = await createTestDatabase('conf');
  return current;
}
function release(db = current): Promise<void> {
  return db?.drop() ?? Promise.resolve();
}

if (available) {
  describeStoreConformance('postgres', async () => {
    const db = await database();
    const store = await openPostgresStore({ connectionString: db.url, schema: 'store_conf', poolSize: 4, logger: silentLogger });
    return { store, cleanup: async () => (await store.close(), release(db)) };
  });

  describeBrokerConformance('postgres in-database broker', async () => {
    const db = await database();
    const options = { connectionString: db.url, schema: 'broker_conf', poolSize: 6, ...brokerTimings };
    const broker = await openPostgresBroker(options);
    return { broker, openPeer: () => openPostgresBroker(options), cleanup: async () => (await broker.close(), release(db)) };
  });

  describeMessagingConformance('postgres store + postgres broker', async () => {
    const db = await database();
    const url = db.url;
    const store = await openPostgresStore({ connectionString: url, schema: 'msg_store', poolSize: 4, logger: silentLogger });
    const broker = await openPostgresBroker({ connectionString: url, schema: 'msg_broker', poolSize: 6, ...brokerTimings });
    return {
      store,
      broker,
      cleanup: async () => {
        await broker.close();
        await store.close();
        await release(db);
      },
    };
  });
}

describe.skipIf(!available)('postgres store specifics', () => {
  let local: TestDatabase;
  beforeAll(async () => {
    local = await createTestDatabase('spec');
  });
  afterAll(async () => {
    await local?.drop();
  });

  it('publishes concurrently from many publishers without deadlocks, offsets dense per partition', async () => {
    const broker = await openPostgresBroker({ connectionString: local.url, schema: 'concurrent', poolSize: 8, logger: silentLogger });
    try {
      const channel = 'concurrent';
      const batches = Array.from({ length: 16 }, (_, b) =>
        Array.from({ length: 50 }, (_, i) => testEnvelope(channel, `key-${(b * 7 + i) % 40}`, b * 50 + i)),
      );
      await Promise.all(batches.map((batch) => broker.publish(batch)));
      const rows = await broker.driver.run((exec) =>
        exec.query<{ p: number; n: string; max: string }>(
          `SELECT "partition" AS p, count(*) AS n, max(msg_offset) AS max FROM concurrent.broker_messages GROUP BY 1`,
        ),
      );
      expect(rows.reduce((sum, r) => sum + Number(r.n), 0)).toBe(800);
      for (const r of rows) expect(Number(r.max)).toBe(Number(r.n) - 1);
    } finally {
      await broker.close();
    }
  });

  it('hands user code the pg client inside the same transaction as the outbox row', async () => {
    const store = await openPostgresStore({ connectionString: local.url, poolSize: 2, logger: silentLogger });
    try {
      await store.transaction(async (tx) => {
        await tx.handle.query('CREATE TABLE IF NOT EXISTS public.orders (id int primary key)');
      });
      await expect(
        store.transaction(async (tx) => {
          await tx.handle.query('INSERT INTO public.orders VALUES (1)');
          throw new Error('nope');
        }),
      ).rejects.toThrow('nope');
      const rows = await store.transaction(async (tx) => (await tx.handle.query('SELECT count(*)::int AS n FROM public.orders')).rows);
      expect(rows[0]).toEqual({ n: 0 });
      expect(store.capabilities).toEqual({ supportsSkipLocked: true, supportsNotify: true, supportsLogTailing: true, pipelinesStatements: true });
    } finally {
      await store.close();
    }
  });
});
