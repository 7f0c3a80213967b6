import { afterAll, beforeAll, describe } from 'vitest';
import { silentLogger } from '@concord/core';
import {
  describeBrokerConformance,
  describeMessagingConformance,
  describeStoreConformance,
  serviceAvailable,
  services,
} from '@concord/core/testing';
import { openMysqlBroker, openMysqlStore } from './index.js';
import { createTestDatabase, type TestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.mariadb);
// Leases long enough that a renewal delayed by a busy 2-core machine does not look like a crash.
const brokerTimings = { leaseMs: 3_000, pollIntervalMs: 50, logger: silentLogger };

describe.skipIf(!available)('MySQL/MariaDB store and in-database broker', () => {
  // One database for the file; each suite's tables are its own thanks to unique channel names,
  // and the store suites each get a database of their own because they count the outbox.
  let shared: TestDatabase;
  beforeAll(async () => {
    shared = await createTestDatabase('conf_broker');
  });
  afterAll(async () => {
    await shared?.drop();
  });

  if (!available) return;

  describeStoreConformance('mysql', async () => {
    const db = await createTestDatabase('conf_store');
    const store = await openMysqlStore({ connectionString: db.uri, logger: silentLogger });
    return { store, cleanup: async () => (await store.close(), await db.drop()) };
  });

  describeBrokerConformance('mysql in-database broker', async () => {
    const broker = await openMysqlBroker({ connectionString: shared.uri, ...brokerTimings });
    return {
      broker,
      openPeer: () => openMysqlBroker({ connectionString: shared.uri, ...brokerTimings }),
      cleanup: () => broker.close(),
    };
  });

  describeMessagingConformance('mysql store + mysql broker', async () => {
    const db = await createTestDatabase('conf_msg');
    const store = await openMysqlStore({ connectionString: db.uri, logger: silentLogger });
    const broker = await openMysqlBroker({ connectionString: db.uri, ...brokerTimings });
    return {
      store,
      broker,
      cleanup: async () => {
        await broker.close();
        await store.close();
        await db.drop();
      },
    };
  });
});
