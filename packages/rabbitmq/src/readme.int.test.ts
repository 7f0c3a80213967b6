import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@concord/core';
import { serviceAvailable, services, uniqueName } from '@concord/core/testing';
import { expect, it } from 'vitest';
import { quickstart } from '../examples/quickstart.js';
import { openRabbitBroker } from './index.js';

const available = await serviceAvailable(services.rabbitmq);
const url = process.env.CONCORD_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const here = new URL('..', import.meta.url).pathname;

it('the README example is the tested one, word for word', () => {
  const example = readFileSync(join(here, 'examples', 'quickstart.ts'), 'utf8');
  const region = /\/\/ #region quickstart\n([\s\S]*?)\/\/ #endregion quickstart/.exec(example)![1]!;
  expect(readFileSync(join(here, 'README.md'), 'utf8')).toContain(region.trim());
});

it.skipIf(!available)('the README example works against RabbitMQ', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'concord-rabbitmq-readme-'));
  const prefix = uniqueName('concord-test-readme');
  try {
    expect(await quickstart(dir, url, prefix)).toBe(1);
  } finally {
    const admin = await openRabbitBroker({ url, prefix, logger: silentLogger });
    await admin.deleteTopology({ channels: ['orders'], groups: [{ group: 'billing.invoicing', channels: ['orders'] }] });
    await admin.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
