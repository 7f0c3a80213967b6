import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { silentLogger, type MessageEnvelope } from '@concord/core';
import { eventually, serviceAvailable, services, testEnvelope, uniqueName } from '@concord/core/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeysWithPrefix, openRedisBroker, type RedisBroker } from './index.js';

const available = await serviceAvailable(services.redis);
const url = 'redis://127.0.0.1:6379';
const keyPrefix = `${uniqueName('concord-test-failover')}:`;
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..', '..');
const leaseMs = 1_000;

const KEYS = 200;
const PER_KEY = 100;

function startChild(env: Record<string, string>): {
  child: ChildProcess;
  lines: AsyncIterableIterator<string>;
} {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=development', join(here, 'testing', 'consumer-process.ts')],
    { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return { child, lines };
}

async function publishRange(broker: RedisBroker, channel: string, fromSeq: number, toSeq: number) {
  const all: MessageEnvelope[] = [];
  for (let s = fromSeq; s < toSeq; s++)
    for (let k = 0; k < KEYS; k++) all.push(testEnvelope(channel, `key-${k}`, s));
  for (let i = 0; i < all.length; i += 500) await broker.publish(all.slice(i, i + 500));
}

describe.skipIf(!available)('redis broker: a consumer killed mid-batch', () => {
  const admin = available ? new Redis(url) : undefined;
  const cleanup: Array<() => Promise<unknown> | unknown> = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
    await deleteKeysWithPrefix(admin!, keyPrefix);
    admin!.disconnect();
  });

  it('hands its partitions to another member; per-key order of first deliveries holds over 20,000 messages', async () => {
    const channel = uniqueName('ch');
    const group = uniqueName('g');
    const results = `${keyPrefix}results`;
    const armKey = `${keyPrefix}arm`;
    const options = { url, keyPrefix, leaseMs, pollIntervalMs: 50, logger: silentLogger };
    const publisher = await openRedisBroker(options);
    cleanup.push(() => publisher.close());

    const { child, lines } = startChild({
      REDIS_URL: url,
      KEY_PREFIX: keyPrefix,
      CHANNEL: channel,
      GROUP: group,
      RESULTS: results,
      LEASE_MS: String(leaseMs),
      ARM_KEY: armKey,
    });
    cleanup.push(() => child.exitCode === null && child.kill('SIGKILL'));
    const exited = once(child, 'exit');
    expect((await lines.next()).value).toBe('ready');
    // The child prints `mid` only once armed, then waits in the middle of its batch.
    const killed = (async () => {
      for await (const line of lines) {
        if (line === 'mid') {
          child.kill('SIGKILL');
          return;
        }
      }
    })();

    await publishRange(publisher, channel, 0, PER_KEY / 2);
    await eventually(async () => (await admin!.llen(results)) >= 2_000, 20_000);

    // A second member joins: the child gives up half of its partitions after its batches.
    const survivor = await openRedisBroker(options);
    cleanup.push(() => survivor.close());
    const subscription = await survivor.subscribe({
      group,
      channels: [channel],
      maxBatchSize: 64,
      handler: async (batch) => {
        const done = batch.messages.map((m) => {
          const { key, seq } = m.payload as { key: string; seq: number };
          return `${key}:${seq}:survivor`;
        });
        await admin!.rpush(results, ...done);
      },
    });
    await eventually(() => subscription.assignedPartitions().length >= 4, 20_000);
    expect(subscription.assignedPartitions().length).toBeLessThan(16);

    // Kill the child in the middle of its next batch: half of it recorded, nothing acked.
    await admin!.set(armKey, '1');
    await publishRange(publisher, channel, PER_KEY / 2, PER_KEY);
    await killed;
    await exited;

    const firsts = new Map<string, number[]>();
    let recorded: string[] = [];
    await eventually(
      async () => {
        recorded = await admin!.lrange(results, 0, -1);
        firsts.clear();
        const seen = new Set<string>();
        for (const entry of recorded) {
          const [key, seq] = entry.split(':');
          if (seen.has(`${key}:${seq}`)) continue;
          seen.add(`${key}:${seq}`);
          const list = firsts.get(key!) ?? [];
          list.push(Number(seq));
          firsts.set(key!, list);
        }
        return seen.size === KEYS * PER_KEY;
      },
      30_000,
      100,
    );
    expect(subscription.assignedPartitions()).toHaveLength(16);
    expect(firsts.size).toBe(KEYS);
    for (const [, seqs] of firsts) expect(seqs).toEqual(Array.from({ length: PER_KEY }, (_, i) => i));
    // The killed batch's first half was recorded but not acknowledged, so it came again.
    expect(recorded.length).toBeGreaterThan(KEYS * PER_KEY);
    expect(recorded.filter((r) => r.endsWith(':child')).length).toBeGreaterThan(0);
    // Nothing is left pending for the group on any partition.
    await eventually(async () => {
      let pending = 0;
      for (let p = 0; p < 16; p++) {
        const summary = (await admin!.call('XPENDING', publisher.keys.stream(channel, p), group)) as [number];
        pending += Number(summary[0]);
      }
      return pending === 0;
    });
  });
});
