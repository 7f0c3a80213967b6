import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@concord/core';
import { describeReservationConformance, describeTimerConformance } from '@concord/core/testing';
import { openSqliteStore } from './index.js';

async function sqliteStore() {
  const dir = mkdtempSync(join(tmpdir(), 'concord-sqlite-timers-'));
  const store = await openSqliteStore({ filename: join(dir, 'service.db'), logger: silentLogger });
  return { store, cleanup: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
}

describeTimerConformance('sqlite', sqliteStore);
describeReservationConformance('sqlite', sqliteStore);
