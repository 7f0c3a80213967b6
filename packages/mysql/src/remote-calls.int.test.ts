import { describe } from 'vitest';
import { silentLogger } from '@concord/core';
import { describeRemoteCallConformance, serviceAvailable, services } from '@concord/core/testing';
import { openMysqlStore } from './index.js';
import { createTestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.mariadb);

describe.skipIf(!available)('MySQL/MariaDB remote calls', () => {
  if (!available) return;
  describeRemoteCallConformance('mysql', async () => {
    const db = await createTestDatabase('remote_calls');
    const store = await openMysqlStore({ connectionString: db.uri, logger: silentLogger });
    await store.migrate();
    return { store, cleanup: async () => (await store.close(), await db.drop()) };
  });
});
