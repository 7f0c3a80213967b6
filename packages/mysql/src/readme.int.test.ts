import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { serviceAvailable, services, uniqueName } from '@concord/core/testing';
import { quickstart } from '../examples/quickstart.js';
import { dropMysqlDatabase } from './index.js';
import { TEST_SERVER_URI } from './testing/test-database.js';

const here = new URL('..', import.meta.url).pathname;
const available = await serviceAvailable(services.mariadb);

it.skipIf(!available)('the README quick start is the tested example, word for word, and it works', async () => {
  const example = readFileSync(join(here, 'examples', 'quickstart.ts'), 'utf8');
  const region = /\/\/ #region quickstart\n([\s\S]*?)\/\/ #endregion quickstart/.exec(example)![1]!;
  expect(readFileSync(join(here, 'README.md'), 'utf8')).toContain(region.trim());
  const suffix = `_${uniqueName('readme')}`;
  try {
    expect(await quickstart(TEST_SERVER_URI, suffix)).toBe(1);
  } finally {
    for (const db of ['shop', 'billing', 'broker']) await dropMysqlDatabase(`${TEST_SERVER_URI}/${db}${suffix}`);
  }
});
