import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@concord/core';
import {
  describeBrokerConformance,
  describeMessagingConformance,
  serviceAvailable,
  services,
} from '@concord/core/testing';
import { openSqliteStore } from '@concord/sqlite';
import { openNatsBroker, type NatsBrokerOptions } from './index.js';

const available = await serviceAvailable(services.nats);
const servers = '127.0.0.1:4222';

function testPrefix(name: string): string {
  return `t-${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

const timings: Partial<NatsBrokerOptions> = { leaseMs: 1_000, pullExpiresMs: 1_000, logger: silentLogger };

if (available) {
  describeBrokerConformance('nats jetstream', async () => {
    const options = { servers, streamPrefix: testPrefix('conf'), ...timings };
    const broker = await openNatsBroker(options);
    return {
      broker,
      openPeer: () => openNatsBroker(options),
      cleanup: async () => {
        await broker.deleteStreams();
        await broker.close();
      },
    };
  });

  describeMessagingConformance('sqlite store + nats jetstream', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'concord-nats-'));
    const store = await openSqliteStore({ filename: join(dir, 'service.db') });
    const broker = await openNatsBroker({ servers, streamPrefix: testPrefix('msg'), ...timings });
    return {
      store,
      broker,
      cleanup: async () => {
        await broker.deleteStreams();
        await broker.close();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}
