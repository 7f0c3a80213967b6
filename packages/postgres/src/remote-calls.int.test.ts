import { describe } from 'vitest';
import { silentLogger } from '@concord/core';
import { describeRemoteCallConformance, serviceAvailable, services } from '@concord/core/testing';
import { openPostgresStore } from './index.js';
import { createTestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.postgres);

describe.skipIf(!available)('postgres remote calls', () => {
  if (!available) return;
  describeRemoteCallConformance('postgres', async () => {
    const db = await createTestDatabase('remote_calls');
    const store = await openPostgresStore({
      connectionString: db.url,
      schema: 'remote_calls',
      poolSize: 4,
      logger: silentLogger,
    });
    await store.migrate();
    return { store, cleanup: async () => (await store.close(), await db.drop()) };
  });
});
