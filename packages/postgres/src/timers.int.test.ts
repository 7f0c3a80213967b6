import { silentLogger, type SqlStore } from '@concord/core';
import { describeReservationConformance, describeTimerConformance, serviceAvailable, services } from '@concord/core/testing';
import { openPostgresStore } from './index.js';
import { createTestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.postgres);

async function postgresStore() {
  const db = await createTestDatabase('timers');
  const store = await openPostgresStore({ connectionString: db.url, poolSize: 8, logger: silentLogger });
  return { store: store as unknown as SqlStore, cleanup: async () => (await store.close(), db.drop()) };
}

if (available) {
  describeTimerConformance('postgres', postgresStore);
  describeReservationConformance('postgres', postgresStore);
}
