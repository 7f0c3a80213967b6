import { silentLogger } from '@concord/core';
import { describeBrokerFailoverConformance, serviceAvailable, services, sqlBrokerFailover } from '@concord/core/testing';
import { describe } from 'vitest';
import { openPostgresBroker } from './index.js';
import { createTestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.postgres);

describe.skipIf(!available)('postgres in-database broker failover', () => {
  if (!available) return;
  describeBrokerFailoverConformance('postgres in-database broker', async () => {
    const db = await createTestDatabase('failover');
    const options = { connectionString: db.url, poolSize: 4, partitions: 8, leaseMs: 2_000, pollIntervalMs: 200, logger: silentLogger };
    return sqlBrokerFailover({ open: () => openPostgresBroker(options), leaseMs: options.leaseMs, cleanup: () => db.drop() });
  });
});
