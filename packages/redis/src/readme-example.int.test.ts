import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceAvailable, services, uniqueName } from '@concord/core/testing';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { deleteKeysWithPrefix } from './index.js';
import { runExample } from './testing/readme-example.js';

const available = await serviceAvailable(services.redis);
const here = dirname(fileURLToPath(import.meta.url));

describe.skipIf(!available)('README example', () => {
  it('runs, and the README quotes it verbatim', async () => {
    const url = 'redis://127.0.0.1:6379';
    const keyPrefix = `${uniqueName('concord-test-readme')}:`;
    const dataDir = mkdtempSync(join(tmpdir(), 'concord-redis-readme-'));
    try {
      expect(await runExample({ url, keyPrefix, dataDir })).toEqual({
        id: 42,
        orders: { '7': { orderId: 7, state: 'PENDING', orderTotal: { amount: '12.34' } } },
      });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      const admin = new Redis(url);
      await deleteKeysWithPrefix(admin, keyPrefix);
      admin.disconnect();
    }
    const source = readFileSync(join(here, 'testing', 'readme-example.ts'), 'utf8');
    const region = source.split('// #region example\n')[1]!.split('// #endregion example')[0]!;
    const readme = readFileSync(join(here, '..', 'README.md'), 'utf8');
    expect(readme).toContain(
      region.replace("'../index.js'; // '@concord/redis' in your code", "'@concord/redis';"),
    );
  });
});
