import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { semanticLockExample } from '../examples/semantic-lock.js';

const here = new URL('..', import.meta.url).pathname;

it('the README semantic-lock example is the tested one, word for word, and it works', async () => {
  const example = readFileSync(join(here, 'examples', 'semantic-lock.ts'), 'utf8');
  const region = /\/\/ #region semantic-lock\n([\s\S]*?)\/\/ #endregion semantic-lock/.exec(example)![1]!;
  expect(readFileSync(join(here, 'README.md'), 'utf8')).toContain(region.trim());
  const dir = mkdtempSync(join(tmpdir(), 'concord-lock-example-'));
  try {
    expect(await semanticLockExample(dir)).toEqual({
      create: 'COMPLETED',
      cancel: 'COMPENSATED',
      reason: 'RESOURCE_LOCKED',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 30_000);
