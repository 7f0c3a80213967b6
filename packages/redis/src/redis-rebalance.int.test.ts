import { silentLogger, type MessageEnvelope } from '@concord/core';
import { type DeliveryBatch } from '@concord/core/spi';
import { eventually, serviceAvailable, services, testEnvelope, uniqueName } from '@concord/core/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeysWithPrefix, openRedisBroker, type RedisBroker } from './index.js';

const available = await serviceAvailable(services.redis);
const url = 'redis://127.0.0.1:6379';
const keyPrefix = `${uniqueName('concord-test-rebalance')}:`;

describe.skipIf(!available)('redis broker: members joining and leaving under load', () => {
  const brokers: RedisBroker[] = [];
  afterAll(async () => {
    for (const b of brokers) await b.close();
    const admin = new Redis(url);
    await deleteKeysWithPrefix(admin, keyPrefix);
    admin.disconnect();
  });

  it('loses nothing and keeps per-key order of first deliveries', async () => {
    const options = { url, keyPrefix, leaseMs: 1_500, pollIntervalMs: 50, logger: silentLogger };
    const open = async () => {
      const b = await openRedisBroker(options);
      brokers.push(b);
      return b;
    };
    const channel = uniqueName('ch');
    const group = uniqueName('g');
    const firsts = new Map<string, number[]>();
    const ids = new Set<string>();
    let deliveries = 0;
    const handler = async (batch: DeliveryBatch) => {
      for (const m of batch.messages) {
        deliveries++;
        if (ids.has(m.id)) continue;
        ids.add(m.id);
        const { key, seq } = m.payload as { key: string; seq: number };
        firsts.set(key, [...(firsts.get(key) ?? []), seq]);
      }
      await new Promise((r) => setTimeout(r, 1)); // batches take a moment, so handoffs meet work in flight
    };
    const subscribe = async () =>
      (await open()).subscribe({ group, channels: [channel], maxBatchSize: 20, handler });

    const publisher = await open();
    const KEYS = 50;
    const PER_KEY = 120;
    let published = 0;
    const load = (async () => {
      for (let seq = 0; seq < PER_KEY; seq++) {
        const batch: MessageEnvelope[] = Array.from({ length: KEYS }, (_, k) =>
          testEnvelope(channel, `key-${k}`, seq),
        );
        await publisher.publish(batch);
        published += batch.length;
        await new Promise((r) => setTimeout(r, 15));
      }
    })();

    const a = await subscribe();
    await eventually(() => ids.size > 500, 20_000);
    const b = await subscribe();
    await eventually(() => b.assignedPartitions().length > 0, 20_000);
    const c = await subscribe();
    await eventually(() => c.assignedPartitions().length > 0, 20_000);
    await a.close(); // graceful: batches finish and are acknowledged before leases go
    await eventually(() => b.assignedPartitions().length + c.assignedPartitions().length === 16, 20_000);
    await b.close();
    await load;
    await eventually(() => ids.size === published && c.assignedPartitions().length === 16, 20_000);

    expect(published).toBe(KEYS * PER_KEY);
    expect(firsts.size).toBe(KEYS);
    for (const [, seqs] of firsts) expect(seqs).toEqual(Array.from({ length: PER_KEY }, (_, i) => i));
    // graceful handoffs acknowledge before they release: nothing is delivered twice
    expect(deliveries).toBe(published);
  });
});
