import { silentLogger } from '@concord/core';
import { describeBrokerFailoverConformance, serviceAvailable, services, sqlBrokerFailover } from '@concord/core/testing';
import { describe } from 'vitest';
import { openMysqlBroker } from './index.js';
import { createTestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.mariadb);

describe.skipIf(!available)('MySQL/MariaDB in-database broker failover', () => {
  if (!available) return;
  describeBrokerFailoverConformance('mysql in-database broker', async () => {
    const db = await createTestDatabase('failover');
    const options = { connectionString: db.uri, partitions: 8, leaseMs: 3_000, pollIntervalMs: 50, logger: silentLogger };
    return sqlBrokerFailover({ open: () => openMysqlBroker(options), leaseMs: options.leaseMs, cleanup: () => db.drop() });
  });
});
