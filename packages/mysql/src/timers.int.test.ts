import { silentLogger, type SqlStore } from '@concord/core';
import { describeReservationConformance, describeTimerConformance, serviceAvailable, services } from '@concord/core/testing';
import { openMysqlStore } from './index.js';
import { createTestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.mariadb);

async function mysqlStore() {
  const db = await createTestDatabase('timers');
  const store = await openMysqlStore({ connectionString: db.uri, logger: silentLogger });
  return { store: store as unknown as SqlStore, cleanup: async () => (await store.close(), db.drop()) };
}

if (available) {
  describeTimerConformance('mysql (MariaDB)', mysqlStore);
  describeReservationConformance('mysql (MariaDB)', mysqlStore);
}
