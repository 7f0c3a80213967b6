import { afterAll, describe } from 'vitest';
import { silentLogger, type Broker } from '@concord/core';
import { describeRelayConformance, serviceAvailable, services, uniqueName, unusedBroker, writeUndecodableOutboxRow } from '@concord/core/testing';
import { openPostgresStore, PostgresPollingRelay, PostgresTailingRelay, type PostgresStore } from './index.js';
import { createTestDatabase, type TestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.postgres);

describe.skipIf(!available)('postgres relays', () => {
  let db: TestDatabase | undefined;
  afterAll(async () => {
    await db?.drop();
  });

  /** A store on a schema of its own in this file's database. */
  async function openStore(prefix: string): Promise<PostgresStore> {
    db ??= await createTestDatabase('relayconf');
    return openPostgresStore({ connectionString: db.url, schema: uniqueName(prefix).toLowerCase(), poolSize: 6, logger: silentLogger });
  }

  describeRelayConformance('PostgreSQL polling relay', async () => {
    const store = await openStore('poll');
    return {
      store,
      relay: (broker) =>
        new PostgresPollingRelay({ store, broker, batchSize: 20, pollIntervalMs: 50, rebalanceIntervalMs: 100, logger: silentLogger }),
      writeUndecodable: (channel, key) => writeUndecodableOutboxRow(store, channel, key),
      cleanup: () => store.close(),
    };
  });

  describeRelayConformance('PostgreSQL WAL tailing relay', async () => {
    const store = await openStore('wal');
    const tailing = (broker: Broker) => new PostgresTailingRelay({ store, broker, maxBatchSize: 20, statusIntervalMs: 200, logger: silentLogger });
    // The slot is created before the suite's writes: a relay that creates it publishes what is
    // already waiting, and commits racing that catch-up may go out twice (at least once).
    const setup = tailing(unusedBroker);
    setup.start();
    while (setup.getStats().connects === 0) await new Promise((r) => setTimeout(r, 20));
    await setup.stop();
    return {
      store,
      relay: tailing,
      writeUndecodable: (channel, key) => writeUndecodableOutboxRow(store, channel, key),
      cleanup: async () => {
        await setup.dropSlot();
        await store.close();
      },
    };
  });
});
