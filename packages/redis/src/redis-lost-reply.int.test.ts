/**
 * Regression (found by the chaos campaign, PostgreSQL + Redis, broker restarts): a fenced read
 * whose reply never reached the worker left its entries in the group's pending list, and the
 * worker, reading only new entries from then on, never delivered them: sagas waited forever
 * for a command nobody handled. ioredis re-sends an unanswered command after a reconnect, so a
 * Redis restart between the read and its reply did exactly that. Here the lost read is made by
 * hand (XREADGROUP '>' under the partition owner's consumer name, its reply dropped) while
 * the worker is busy with the batch before.
 */
import { silentLogger, type MessageEnvelope } from '@concord/core';
import { eventually, serviceAvailable, services, testEnvelope, uniqueName } from '@concord/core/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeysWithPrefix, openRedisBroker } from './index.js';
import { PARTITION_CONSUMER } from './redis-partition-source.js';

const available = await serviceAvailable(services.redis);
const url = 'redis://127.0.0.1:6379';
const keyPrefix = `${uniqueName('concord-test-lost-reply')}:`;
const admin = available ? new Redis(url) : undefined;

afterAll(async () => {
  if (!admin) return;
  await deleteKeysWithPrefix(admin, keyPrefix);
  admin.disconnect();
});

describe.skipIf(!available)('redis broker: a read whose reply was lost', () => {
  it('still delivers the entries that read moved to the pending list', async () => {
    const broker = await openRedisBroker({ url, keyPrefix, partitions: 1, leaseMs: 2_000, pollIntervalMs: 50, logger: silentLogger });
    const channel = uniqueName('ch');
    const group = 'g';
    const seen: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sub = await broker.subscribe({
      group,
      channels: [channel],
      handler: async (batch) => {
        for (const m of batch.messages as MessageEnvelope<{ seq: number }>[]) seen.push(m.payload.seq);
        if (seen.includes(1)) await gate; // busy with the first batch while the lost read happens
      },
    });
    try {
      await broker.publish([testEnvelope(channel, 'k', 1)]);
      await eventually(() => expect(seen).toContain(1), 20_000);
      await broker.publish([testEnvelope(channel, 'k', 2)]);
      // The read whose reply never arrived: entry 2 is now pending under the owner's name.
      const stream = broker.keys.stream(channel, 0);
      const lost = (await admin!.call('XREADGROUP', 'GROUP', group, PARTITION_CONSUMER, 'COUNT', 10, 'STREAMS', stream, '>')) as unknown[] | null;
      expect(lost).not.toBeNull();
      await broker.publish([testEnvelope(channel, 'k', 3)]);
      release();
      await eventually(() => expect(seen).toEqual(expect.arrayContaining([1, 2, 3])), 20_000);
    } finally {
      release();
      await sub.close();
      await broker.close();
    }
  });
});
