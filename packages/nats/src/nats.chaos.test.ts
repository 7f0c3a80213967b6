import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutboxRelay, silentLogger } from '@concord/core';
import { type DeliveryBatch, type Subscription } from '@concord/core/spi';
import { counterEvent, eventually, serviceAvailable, services, uniqueName } from '@concord/core/testing';
import { openSqliteStore } from '@concord/sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { startNatsServer, stopNatsServer } from './testing/nats-server.js';
import { openNatsBroker, type NatsBroker } from './index.js';

const available = await serviceAvailable(services.nats);
const streamPrefix = `t-chaos-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const options = { servers: '127.0.0.1:4222', streamPrefix, leaseMs: 1_500, pullExpiresMs: 1_000, logger: silentLogger };

describe.skipIf(!available)('NATS broker: server restarted under load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'concord-nats-chaos-'));
  let publisher: NatsBroker | undefined;
  let consumer: NatsBroker | undefined;

  afterAll(async () => {
    await startNatsServer(); // whatever happened, the server is up again for everyone else
    await consumer?.close().catch(() => {});
    await publisher?.deleteStreams().catch(() => {});
    await publisher?.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing and keeps per-key order when NATS stops and starts mid-stream', async () => {
    const Counted = counterEvent(uniqueName('ch'));
    const store = await openSqliteStore({ filename: join(dir, 'service.db') });
    publisher = await openNatsBroker(options);
    consumer = await openNatsBroker(options);
    const relay = new OutboxRelay({ store, broker: publisher, logger: silentLogger, pollIntervalMs: 20, batchSize: 200 });

    const firstSeen = new Map<string, number[]>();
    const ids = new Set<string>();
    let subscription: Subscription | undefined;
    const handler = async (batch: DeliveryBatch) => {
      for (const m of batch.messages) {
        if (ids.has(m.id)) continue;
        ids.add(m.id);
        const { key, seq } = m.payload as { key: string; seq: number };
        firstSeen.set(key, [...(firstSeen.get(key) ?? []), seq]);
      }
    };

    const keys = 50;
    const perKey = 160;
    const total = keys * perKey;
    try {
      subscription = await consumer.subscribe({ group: uniqueName('g'), channels: [Counted.channel], handler });
      relay.start();
      const writing = (async () => {
        for (let s = 0; s < perKey; s++) {
          await store.transaction(async (tx) => {
            for (let k = 0; k < keys; k++) await tx.outbox.send(Counted, { key: `key-${k}`, seq: s });
          });
          await new Promise((r) => setTimeout(r, 25));
        }
      })();

      await eventually(() => ids.size >= total / 4, 30_000);
      const atStop = ids.size;
      await stopNatsServer();
      await new Promise((r) => setTimeout(r, 3_000)); // longer than a lease: every lease expires
      await startNatsServer();
      const restartedAt = Date.now();
      await writing;
      await eventually(() => ids.size === total, 90_000, 100);
      console.log(`chaos: ${atStop}/${total} delivered when NATS stopped; all ${total} ${Date.now() - restartedAt} ms after it restarted`);
    } finally {
      await startNatsServer();
      await relay.stop();
      await subscription?.close().catch(() => {});
      await store.close();
    }
    expect(firstSeen.size).toBe(keys);
    for (const [key, seqs] of firstSeen) expect({ key, seqs }).toEqual({ key, seqs: Array.from({ length: perKey }, (_, i) => i) });
  });
});
