import { describe } from 'vitest';
import { silentLogger, type Broker } from '@concord/core';
import { describeRelayConformance, serviceAvailable, services, unusedBroker, writeUndecodableOutboxRow } from '@concord/core/testing';
import { createMysqlRelay, MysqlPollingRelay, openMysqlStore, type MysqlStore } from './index.js';
import { createTestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.mariadb);

/** A store on a database of its own, dropped by `cleanup`. */
async function openStore(prefix: string): Promise<{ store: MysqlStore; cleanup(): Promise<void> }> {
  const db = await createTestDatabase(prefix);
  const store = await openMysqlStore({ connectionString: db.uri, logger: silentLogger });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await db.drop();
    },
  };
}

describe.skipIf(!available)('mysql relays', () => {
  describeRelayConformance('MySQL polling relay', async () => {
    const { store, cleanup } = await openStore('relaypoll');
    return {
      store,
      relay: (broker) =>
        new MysqlPollingRelay({ store, broker, batchSize: 20, pollIntervalMs: 20, logger: silentLogger, shardLeases: { rebalanceEveryMs: 100 } }),
      writeUndecodable: (channel, key) => writeUndecodableOutboxRow(store, channel, key),
      cleanup,
    };
  });

  describeRelayConformance('MySQL binlog tailing relay', async () => {
    const { store, cleanup } = await openStore('relaybinlog');
    const tailing = (broker: Broker) =>
      createMysqlRelay({ mode: 'tailing', store, broker, batchSize: 20, logger: silentLogger });
    // Bootstrapped before the suite's writes: a first start drains the table while it notes
    // where to tail from, and commits racing that may go out twice (at least once).
    const setup = await tailing(unusedBroker);
    setup.start();
    await setup.whenTailing();
    await setup.stop();
    return { store, relay: tailing, writeUndecodable: (channel, key) => writeUndecodableOutboxRow(store, channel, key), cleanup };
  });
});
