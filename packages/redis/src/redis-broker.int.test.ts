import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@concord/core';
import {
  describeBrokerConformance,
  describeMessagingConformance,
  eventually,
  serviceAvailable,
  services,
  testEnvelope,
  uniqueName,
} from '@concord/core/testing';
import { openSqliteStore } from '@concord/sqlite';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { envelopeFields } from './envelope-codec.js';
import { deleteKeysWithPrefix, openRedisBroker, type RedisBroker, type RedisBrokerOptions } from './index.js';

const available = await serviceAvailable(services.redis);
const url = 'redis://127.0.0.1:6379';
const keyPrefix = `${uniqueName('concord-test-broker')}:`;
const timings: RedisBrokerOptions = {
  url,
  keyPrefix,
  leaseMs: 1_000,
  pollIntervalMs: 100,
  logger: silentLogger,
};

const admin = available ? new Redis(url) : undefined;
const opened: RedisBroker[] = [];
async function open(options: RedisBrokerOptions): Promise<RedisBroker> {
  const broker = await openRedisBroker(options);
  opened.push(broker);
  return broker;
}
// File-level: runs after every suite below, the conformance ones included. Brokers close
// first, or a worker would re-create a group (and its stream) after the keys were deleted.
afterAll(async () => {
  if (!admin) return;
  for (const broker of opened) await broker.close();
  await deleteKeysWithPrefix(admin, keyPrefix);
  admin.disconnect();
});

describe.skipIf(!available)('redis broker', () => {
  it('records a channel partition count once, so instances configured differently agree', async () => {
    const a = await openRedisBroker({ ...timings, partitions: 4 });
    const b = await openRedisBroker({ ...timings, partitions: 8 });
    try {
      const channel = uniqueName('ch');
      expect(await a.partitionsOf(channel)).toBe(4);
      expect(await b.partitionsOf(channel)).toBe(4);
      expect(await b.partitionsOf(uniqueName('ch'))).toBe(8);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('close() waits for the batch in flight and acknowledges it', async () => {
    const broker = await open({ ...timings, partitions: 1 });
    const channel = uniqueName('ch');
    const group = uniqueName('g');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    onTestFinished(() => release());
    let started = false;
    let finished = false;
    const subscription = await broker.subscribe({
      group,
      channels: [channel],
      handler: async () => {
        started = true;
        await gate;
        finished = true;
      },
    });
    await broker.publish([testEnvelope(channel, 'k', 0)]);
    await eventually(() => started);
    let closed = false;
    const closing = subscription.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(closed).toBe(false);
    release();
    await closing;
    expect(finished).toBe(true);
    const pending = (await admin!.call('XPENDING', broker.keys.stream(channel, 0), group)) as [number];
    expect(Number(pending[0])).toBe(0);
    expect(await admin!.exists(broker.keys.lease(group, channel, 0))).toBe(0);
  });

  it('delivers entries left pending under another consumer name of the group before new ones', async () => {
    const broker = await open({ ...timings, partitions: 1 });
    const channel = uniqueName('ch');
    const group = uniqueName('g');
    const stream = broker.keys.stream(channel, 0);
    const first = testEnvelope(channel, 'k', 0);
    await admin!.call('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM');
    await admin!.xadd(stream, '*', ...envelopeFields(first));
    // another tool read it as "legacy" and died before acknowledging
    await admin!.call('XREADGROUP', 'GROUP', group, 'legacy', 'COUNT', 10, 'STREAMS', stream, '>');
    await broker.publish([testEnvelope(channel, 'k', 1)]);
    const seqs: number[] = [];
    await broker.subscribe({
      group,
      channels: [channel],
      handler: async (b) => {
        for (const m of b.messages) seqs.push((m.payload as { seq: number }).seq);
      },
    });
    await eventually(() => seqs.length >= 2);
    expect(seqs).toEqual([0, 1]);
  });

  it('says it is not durable on a server without an fsync per write', async () => {
    const broker = await openRedisBroker(timings);
    try {
      const config = (await admin!.call('CONFIG', 'GET', 'appendonly')) as string[];
      if (config[1] === 'no') expect(broker.capabilities.durable).toBe(false);
      expect(broker.capabilities.partitionedConsumers).toBe(true);
    } finally {
      await broker.close();
    }
  });
});

if (available) {
  describeBrokerConformance('redis streams', async () => {
    const broker = await openRedisBroker(timings);
    return { broker, openPeer: () => openRedisBroker(timings), cleanup: () => broker.close() };
  });

  describeMessagingConformance('sqlite store + redis broker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'concord-redis-'));
    const store = await openSqliteStore({ filename: join(dir, 'service.db') });
    const broker = await openRedisBroker(timings);
    return {
      store,
      broker,
      cleanup: async () => {
        await broker.close();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}
