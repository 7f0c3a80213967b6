import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { serviceAvailable, services, uniqueName } from '@concord/core/testing';
import { dropPostgresDatabase } from './index.js';
import { withDatabase } from './spi.js';
import { testServerUrl } from './testing/test-database.js';

const available = await serviceAvailable(services.postgres);
const here = dirname(fileURLToPath(import.meta.url));

describe.skipIf(!available)('README', () => {
  it('shows the example that runs', async () => {
    const example = readFileSync(join(here, 'testing', 'readme-example.ts'), 'utf8');
    expect(readFileSync(join(here, '..', 'README.md'), 'utf8')).toContain(example);
    const url = withDatabase(testServerUrl, uniqueName('concord_readme').toLowerCase());
    try {
      const run = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=development', join(here, 'testing', 'readme-example.ts')], {
        cwd: resolve(here, '../../..'),
        env: { ...process.env, DATABASE_URL: url, CONCORD_LOG_LEVEL: 'warn' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(run.stderr).toBe('');
      expect(run.stdout).toContain('bill order 1 42.5');
      expect(run.status).toBe(0);
    } finally {
      await dropPostgresDatabase(url);
    }
  });
});
