import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { quickstart } from '../examples/quickstart.js';

const here = new URL('..', import.meta.url).pathname;

it('the README quick start is the tested example, word for word, and it works', async () => {
  const example = readFileSync(join(here, 'examples', 'quickstart.ts'), 'utf8');
  const region = /\/\/ #region quickstart\n([\s\S]*?)\/\/ #endregion quickstart/.exec(example)![1]!;
  expect(readFileSync(join(here, 'README.md'), 'utf8')).toContain(region.trim());
  const dir = mkdtempSync(join(tmpdir(), 'concord-readme-'));
  try {
    expect(await quickstart(dir)).toBe(1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
