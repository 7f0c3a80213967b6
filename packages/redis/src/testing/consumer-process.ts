/**
 * A consumer in its own process, for the failover test: it records each batch in a Redis
 * list in two halves. Once the test sets ARM_KEY, the next batch stops after its first half
 * and prints `mid`, so the test can SIGKILL it in the middle of a batch.
 * env: REDIS_URL, KEY_PREFIX, CHANNEL, GROUP, RESULTS, LEASE_MS, ARM_KEY.
 */
import { silentLogger } from '@concord/core';
import { Redis } from 'ioredis';
import { openRedisBroker } from '../index.js';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const results = env('RESULTS');
const writer = new Redis(env('REDIS_URL'));
const broker = await openRedisBroker({
  url: env('REDIS_URL'),
  keyPrefix: env('KEY_PREFIX'),
  leaseMs: Number(env('LEASE_MS')),
  pollIntervalMs: 50,
  logger: silentLogger,
});
await broker.subscribe({
  group: env('GROUP'),
  channels: [env('CHANNEL')],
  maxBatchSize: 64,
  handler: async (batch) => {
    const done = batch.messages.map((m) => {
      const { key, seq } = m.payload as { key: string; seq: number };
      return `${key}:${seq}:child`;
    });
    const half = Math.ceil(done.length / 2);
    await writer.rpush(results, ...done.slice(0, half));
    if (await writer.exists(env('ARM_KEY'))) {
      // The test is ready to kill us: stay in the middle of this batch until it does.
      process.stdout.write('mid\n');
      await new Promise(() => {});
    }
    await new Promise((r) => setTimeout(r, 2));
    if (done.length > half) await writer.rpush(results, ...done.slice(half));
  },
});
process.stdout.write('ready\n');
