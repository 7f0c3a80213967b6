import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@concord/core';
import { serviceAvailable, services } from '@concord/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { runExample } from './testing/readme-example.js';
import { openNatsBroker } from './index.js';

const available = await serviceAvailable(services.nats);
const here = dirname(fileURLToPath(import.meta.url));
const streamPrefix = `t-readme-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

describe.skipIf(!available)('README example', () => {
  const dir = mkdtempSync(join(tmpdir(), 'concord-nats-readme-'));
  afterAll(async () => {
    const admin = await openNatsBroker({ servers: '127.0.0.1:4222', streamPrefix, logger: silentLogger });
    await admin.deleteStreams();
    await admin.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs, and the README quotes it verbatim', async () => {
    expect(await runExample({ servers: '127.0.0.1:4222', streamPrefix, dataDir: dir })).toEqual([7]);
    const example = readFileSync(join(here, 'testing', 'readme-example.ts'), 'utf8');
    const readme = readFileSync(join(here, '..', 'README.md'), 'utf8');
    expect(readme).toContain(example.trim());
  });
});
