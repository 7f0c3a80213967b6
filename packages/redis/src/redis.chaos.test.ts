import { execFileSync, spawnSync } from 'node:child_process';
import { silentLogger, type MessageEnvelope } from '@concord/core';
import { type DeliveryBatch } from '@concord/core/spi';
import { eventually, serviceAvailable, services, testEnvelope, uniqueName } from '@concord/core/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeysWithPrefix, openRedisBroker, openRedisViewStore } from './index.js';

/**
 * Redis restarted under load. This server keeps nothing on disk (`--save "" --appendonly
 * no`), so what was in it is lost by design: the test asserts that clients reconnect, groups
 * and leases come back, everything published after the restart arrives in order, and nothing
 * crashes. It always starts Redis again, even when it fails.
 */
const available = await serviceAvailable(services.redis);
const url = 'redis://127.0.0.1:6379';
const keyPrefix = `${uniqueName('concord-chaos')}:`;
const START = [
  '--daemonize',
  'yes',
  '--bind',
  '127.0.0.1',
  '-::1',
  '--port',
  '6379',
  '--save',
  '',
  '--appendonly',
  'no',
  '--dir',
  '/var/lib/redis',
  '--logfile',
  '/var/log/redis/ci.log',
];

function redisAnswers(): boolean {
  return (
    spawnSync('redis-cli', ['-p', '6379', 'ping'], { encoding: 'utf8', timeout: 2_000 }).stdout?.trim() ===
    'PONG'
  );
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('redis did not reach the expected state in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function ensureRedisRunning(): Promise<void> {
  if (redisAnswers()) return;
  execFileSync('redis-server', START);
  await waitFor(redisAnswers, 15_000);
}

describe.skipIf(!available)('redis broker chaos: Redis restarted during load', () => {
  afterAll(async () => {
    await ensureRedisRunning();
    const admin = new Redis(url);
    await deleteKeysWithPrefix(admin, keyPrefix);
    admin.disconnect();
  });

  it('reconnects, recreates groups, and delivers everything published after the restart in order', async () => {
    const options = { url, keyPrefix, leaseMs: 1_000, pollIntervalMs: 100, logger: silentLogger };
    const publisher = await openRedisBroker(options);
    const consumer = await openRedisBroker(options);
    const views = openRedisViewStore<{ n: number }>({ url, keyPrefix, name: 'chaos' });
    const channel = uniqueName('ch');
    const seen = new Map<string, number[]>();
    const ids = new Set<string>();
    const handler = async (batch: DeliveryBatch) => {
      for (const m of batch.messages) {
        if (ids.has(m.id)) continue;
        ids.add(m.id);
        const { key, seq } = m.payload as { key: string; seq: number };
        seen.set(key, [...(seen.get(key) ?? []), seq]);
      }
    };
    let publishFailures = 0;
    /** Publishes like the outbox relay: a batch that failed is published again. */
    const publishWithRetry = async (batch: MessageEnvelope[]) => {
      for (;;) {
        try {
          return await publisher.publish(batch);
        } catch {
          publishFailures++;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const publishAll = async (phase: string, perKey: number, keys = 20) => {
      const all: MessageEnvelope[] = [];
      for (let s = 0; s < perKey; s++)
        for (let k = 0; k < keys; k++) all.push(testEnvelope(channel, `${phase}-${k}`, s));
      for (let i = 0; i < all.length; i += 100) await publishWithRetry(all.slice(i, i + 100));
    };

    try {
      const subscription = await consumer.subscribe({ group: uniqueName('g'), channels: [channel], handler });
      await eventually(() => subscription.assignedPartitions().length === 16, 10_000);
      // Load: 20 keys, a batch every few ms, until well after the restart.
      let stopLoad = false;
      let loadBatches = 0;
      const load = (async () => {
        for (let seq = 0; !stopLoad; seq++) {
          await publishWithRetry(
            Array.from({ length: 20 }, (_, k) => testEnvelope(channel, `before-${k}`, seq)),
          );
          loadBatches++;
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      await eventually(() => ids.size >= 500, 20_000);

      execFileSync('redis-cli', ['-p', '6379', 'shutdown', 'nosave'], { timeout: 10_000 });
      await waitFor(() => !redisAnswers(), 10_000);
      await new Promise((r) => setTimeout(r, 500));
      execFileSync('redis-server', START);
      await waitFor(redisAnswers, 15_000);
      const batchesAtRestart = loadBatches;
      await eventually(() => loadBatches > batchesAtRestart + 20, 30_000); // the load goes on
      stopLoad = true;
      await load;

      await publishAll('after', 50);
      await eventually(() => countPhase(seen, 'after') === 1_000, 30_000);
      for (let k = 0; k < 20; k++)
        expect(seen.get(`after-${k}`)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      // `before` keys lost a suffix in the restart, but what arrived kept its order
      for (const [key, seqs] of seen)
        if (key.startsWith('before')) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(subscription.assignedPartitions()).toHaveLength(16);
      console.info(
        `redis restart: ${publishFailures} publish calls failed and were retried; ${ids.size} messages delivered`,
      );

      // Scripts were lost with the restart too: the view store loads its script again.
      await views.apply('v', { eventId: 'e1', version: 1, set: { n: 1 } });
      expect(await views.get('v')).toEqual({ n: 1 });
    } finally {
      await ensureRedisRunning();
      await views.close();
      await consumer.close();
      await publisher.close();
    }
  });
});

function countPhase(seen: Map<string, number[]>, phase: string): number {
  let n = 0;
  for (const [key, seqs] of seen) if (key.startsWith(`${phase}-`)) n += seqs.length;
  return n;
}
