import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutboxRelay, silentLogger } from '@concord/core';
import { InProcessShardLocks, ShardLeases, sqlOutboxSource } from '@concord/core/spi';
import { describeRelayConformance, writeUndecodableOutboxRow } from '@concord/core/testing';
import { openSqliteStore } from './index.js';

// Core's relay loop on SQLite; instances in one process share the shards through in-process locks.
describeRelayConformance('core OutboxRelay on SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'concord-relay-'));
  const store = await openSqliteStore({ filename: join(dir, 'service.db'), logger: silentLogger });
  const locks = new InProcessShardLocks();
  return {
    store,
    relay: (broker) =>
      new OutboxRelay(
        { store, broker, batchSize: 20, pollIntervalMs: 20, logger: silentLogger },
        { source: sqlOutboxSource(store.driver), leases: new ShardLeases(locks, { rebalanceEveryMs: 100, logger: silentLogger }) },
      ),
    writeUndecodable: (channel, key) => writeUndecodableOutboxRow(store, channel, key),
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
