import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@concord/core';
import {
  describeBrokerConformance,
  describeMessagingConformance,
  serviceAvailable,
  services,
  uniqueName,
} from '@concord/core/testing';
import { openSqliteStore } from '@concord/sqlite';
import { describe } from 'vitest';
import { openRabbitBroker, type RabbitBroker, type RabbitBrokerOptions } from './index.js';

const available = await serviceAvailable(services.rabbitmq);
const url = process.env.CONCORD_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
// One prefix per file: nothing here can meet another file's queues.
const prefix = uniqueName('concord-test-conf');
const options: RabbitBrokerOptions = { url, prefix, memberTimeoutMs: 1_500, logger: silentLogger };

/** Deletes what every broker of a suite used (streams, lease queues), then closes them. */
async function tearDown(brokers: RabbitBroker[]): Promise<void> {
  for (const b of brokers) await b.close();
  const admin = await openRabbitBroker(options);
  try {
    for (const b of brokers) await admin.deleteTopology(b.usedTopology());
  } finally {
    await admin.close();
  }
}

describe.skipIf(!available)('rabbitmq broker', () => {
  if (!available) return;

  describeBrokerConformance('rabbitmq', async () => {
    const brokers = [await openRabbitBroker(options)];
    return {
      broker: brokers[0]!,
      openPeer: async () => {
        const peer = await openRabbitBroker(options);
        brokers.push(peer);
        return peer;
      },
      cleanup: () => tearDown(brokers),
    };
  });

  describeMessagingConformance('sqlite store + rabbitmq broker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'concord-rabbitmq-'));
    const store = await openSqliteStore({ filename: join(dir, 'service.db') });
    const broker = await openRabbitBroker(options);
    return {
      store,
      broker,
      cleanup: async () => {
        await tearDown([broker]);
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});
