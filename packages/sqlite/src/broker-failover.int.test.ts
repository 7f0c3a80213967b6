import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@concord/core';
import { describeBrokerFailoverConformance, sqlBrokerFailover } from '@concord/core/testing';
import { openSqliteBroker } from './index.js';

describeBrokerFailoverConformance('sqlite in-database broker', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'concord-sqlite-failover-'));
  const options = { filename: join(dir, 'broker.db'), partitions: 8, leaseMs: 1_000, pollIntervalMs: 50, logger: silentLogger };
  return sqlBrokerFailover({
    open: () => openSqliteBroker(options),
    leaseMs: options.leaseMs,
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  });
});
