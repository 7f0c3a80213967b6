import { silentLogger } from '@concord/core';
import { eventually, serviceAvailable, services, testEnvelope, uniqueName } from '@concord/core/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeysWithPrefix, openRedisBroker } from './index.js';

const available = await serviceAvailable(services.redis);
const url = 'redis://127.0.0.1:6379';
const keyPrefix = `${uniqueName('concord-test-slow')}:`;

describe.skipIf(!available)('redis broker: a slow group loses nothing to trimming', () => {
  const admin = available ? new Redis(url) : undefined;
  afterAll(async () => {
    await deleteKeysWithPrefix(admin!, keyPrefix);
    admin!.disconnect();
  });

  it('trims past maxLen only what every group acknowledged; the slow group still gets every message', async () => {
    // maxLen far below what is published: before, XADD MAXLEN ~ dropped entries the slow group had not read.
    const broker = await openRedisBroker({
      url,
      keyPrefix,
      partitions: 1,
      maxLen: 20,
      retentionMs: 3_600_000,
      trimIntervalMs: 50,
      pollIntervalMs: 20,
      leaseMs: 1_000,
      logger: silentLogger,
    });
    const channel = uniqueName('slow');
    const fast: number[] = [];
    const slow: number[] = [];
    let gate!: () => void;
    const released = new Promise<void>((resolve) => (gate = resolve));
    const subs = [
      await broker.subscribe({
        group: 'fast',
        channels: [channel],
        maxBatchSize: 25,
        handler: async (batch) => void fast.push(...batch.messages.map((m) => (m.payload as { seq: number }).seq)),
      }),
      await broker.subscribe({
        group: 'slow',
        channels: [channel],
        maxBatchSize: 25,
        handler: async (batch) => {
          // Takes the first 100 at once, then holds its next batch until released.
          if (slow.length >= 100) await released;
          slow.push(...batch.messages.map((m) => (m.payload as { seq: number }).seq));
        },
      }),
    ];
    try {
      const total = 400;
      for (let i = 0; i < total; i += 50) {
        await broker.publish(Array.from({ length: 50 }, (_, j) => testEnvelope(channel, 'k', i + j)));
      }
      await eventually(() => fast.length === total, 15_000);
      await eventually(() => slow.length >= 100, 15_000);
      const stream = broker.keys.stream(channel, 0);
      // What both groups acknowledged goes (the stream is over maxLen); what the slow one holds stays.
      await eventually(async () => (await admin!.xlen(stream)) < total, 15_000);
      expect(await admin!.xlen(stream)).toBeGreaterThanOrEqual(total - 100);
      gate();
      await eventually(() => slow.length === total, 15_000);
      expect(slow).toEqual(Array.from({ length: total }, (_, i) => i));
    } finally {
      gate();
      for (const s of subs) await s.close();
      await broker.close();
    }
  });
});
