import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it, vi } from 'vitest';
import { quickstart } from '../examples/quickstart.js';

const here = new URL('..', import.meta.url).pathname;

it('the README quick start is the tested example, word for word, and it finds the planted bug', async () => {
  const example = readFileSync(join(here, 'examples', 'quickstart.ts'), 'utf8');
  const region = /\/\/ #region quickstart\n([\s\S]*?)\/\/ #endregion quickstart/.exec(example)![1]!;
  expect(readFileSync(join(here, 'README.md'), 'utf8')).toContain(region.trim());
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    expect(await quickstart()).toBe('none');
    expect(await quickstart({ receiptAfterCommit: false })).toMatch(/^crash-before-commit@\d+$/);
  } finally {
    log.mockRestore();
  }
});
