import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@concord/core';
import {
  describeBrokerConformance,
  describeCountermeasuresConformance,
  describeDeadlockConformance,
  describeIsolationConformance,
  describeSagaGroupConformance,
  describeMessagingConformance,
  describeSagaConformance,
  describeStoreConformance,
} from '@concord/core/testing';
import { openSqliteBroker, openSqliteStore } from './index.js';

function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'concord-sqlite-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const brokerTimings = { leaseMs: 1_000, pollIntervalMs: 50, logger: silentLogger };

describeStoreConformance('sqlite', async () => {
  const { dir, remove } = tempDir();
  const store = await openSqliteStore({ filename: join(dir, 'service.db') });
  return { store, cleanup: async () => (await store.close(), remove()) };
});

describeBrokerConformance('sqlite in-database broker', async () => {
  const { dir, remove } = tempDir();
  const filename = join(dir, 'broker.db');
  const broker = await openSqliteBroker({ filename, ...brokerTimings });
  return {
    broker,
    openPeer: () => openSqliteBroker({ filename, ...brokerTimings }),
    cleanup: async () => (await broker.close(), remove()),
  };
});

describeMessagingConformance('sqlite store + sqlite broker', async () => {
  const { dir, remove } = tempDir();
  const store = await openSqliteStore({ filename: join(dir, 'service.db') });
  const broker = await openSqliteBroker({ filename: join(dir, 'broker.db'), ...brokerTimings });
  return {
    store,
    broker,
    cleanup: async () => {
      await broker.close();
      await store.close();
      remove();
    },
  };
});

describeSagaConformance('sqlite', async () => {
  const { dir, remove } = tempDir();
  const orchestratorStore = await openSqliteStore({ filename: join(dir, 'orders.db') });
  const participantStore = await openSqliteStore({ filename: join(dir, 'customers.db') });
  const broker = await openSqliteBroker({ filename: join(dir, 'broker.db'), ...brokerTimings, pollIntervalMs: 20 });
  return {
    orchestratorStore,
    participantStore,
    broker,
    cleanup: async () => {
      await broker.close();
      await orchestratorStore.close();
      await participantStore.close();
      remove();
    },
  };
});

async function sagaServices() {
  const { dir, remove } = tempDir();
  const orchestratorStore = await openSqliteStore({ filename: join(dir, 'orders.db') });
  const participantStore = await openSqliteStore({ filename: join(dir, 'customers.db') });
  const broker = await openSqliteBroker({ filename: join(dir, 'broker.db'), ...brokerTimings, pollIntervalMs: 20 });
  return {
    orchestratorStore,
    participantStore,
    broker,
    cleanup: async () => {
      await broker.close();
      await orchestratorStore.close();
      await participantStore.close();
      remove();
    },
  };
}

describeSagaGroupConformance('sqlite', sagaServices);
describeIsolationConformance('sqlite', sagaServices);
describeDeadlockConformance('sqlite', sagaServices);
describeCountermeasuresConformance('sqlite', async () => {
  const { dir, remove } = tempDir();
  const store = await openSqliteStore({ filename: join(dir, 'service.db') });
  return { store, cleanup: async () => (await store.close(), remove()) };
});
