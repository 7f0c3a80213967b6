import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@concord/core';
import { describeRemoteCallConformance } from '@concord/core/testing';
import { openSqliteStore } from './index.js';

describeRemoteCallConformance('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'concord-remote-calls-'));
  const store = await openSqliteStore({ filename: join(dir, 'service.db'), logger: silentLogger });
  await store.migrate();
  return { store, cleanup: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
});
