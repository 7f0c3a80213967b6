import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { silentLogger, type MessageEnvelope } from '@concord/core';
import { eventually, serviceAvailable, services, testEnvelope, uniqueName } from '@concord/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { openRabbitBroker, type RabbitBroker } from './index.js';

const available = await serviceAvailable(services.rabbitmq);
const url = process.env.CONCORD_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const prefix = uniqueName('concord-test-failover');
const memberTimeoutMs = 1_500;
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..', '..');

const KEYS = 200;
const PER_KEY = 100;

function startChild(env: Record<string, string>): { child: ChildProcess; lines: AsyncIterableIterator<string> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=development', join(here, 'testing', 'consumer-process.ts')],
    { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return { child, lines };
}

async function publishRange(broker: RabbitBroker, channel: string, fromSeq: number, toSeq: number) {
  const all: MessageEnvelope[] = [];
  for (let s = fromSeq; s < toSeq; s++) for (let k = 0; k < KEYS; k++) all.push(testEnvelope(channel, `key-${k}`, s));
  for (let i = 0; i < all.length; i += 500) await broker.publish(all.slice(i, i + 500));
}

describe.skipIf(!available)('rabbitmq broker: a consumer killed mid-batch', () => {
  const cleanup: Array<() => Promise<unknown> | unknown> = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('hands its partitions to another member; per-key order of first deliveries holds over 20,000 messages', async () => {
    const channel = uniqueName('ch');
    const group = uniqueName('g');
    const options = { url, prefix, memberTimeoutMs, logger: silentLogger };
    const publisher = await openRabbitBroker(options);
    cleanup.push(async () => {
      await publisher.deleteTopology({ channels: [channel], groups: [{ group, channels: [channel] }] });
      await publisher.close();
    });

    // Arrival order in this process is the order of first deliveries: the survivor can only
    // take a partition over after the child's membership timed out, long after its last line.
    const recorded: string[] = [];
    const { child, lines } = startChild({
      RABBIT_URL: url,
      PREFIX: prefix,
      CHANNEL: channel,
      GROUP: group,
      MEMBER_TIMEOUT_MS: String(memberTimeoutMs),
    });
    cleanup.push(() => child.exitCode === null && child.kill('SIGKILL'));
    const exited = once(child, 'exit');
    expect((await lines.next()).value).toBe('ready');
    // Every line the child wrote before it died is read, up to the end of its output.
    let childRecorded = 0;
    const drained = (async () => {
      for await (const line of lines) {
        if (!line.startsWith('seen ')) continue;
        recorded.push(`${line.slice(5)}:child`);
        childRecorded++;
      }
    })();

    await publishRange(publisher, channel, 0, PER_KEY / 2);
    await eventually(() => recorded.length >= 2_000, 20_000);

    // A second member joins: the child gives up half of its partitions after its batches.
    const survivor = await openRabbitBroker(options);
    cleanup.push(() => survivor.close());
    const subscription = await survivor.subscribe({
      group,
      channels: [channel],
      maxBatchSize: 64,
      handler: async (batch) => {
        for (const m of batch.messages) {
          const { key, seq } = m.payload as { key: string; seq: number };
          recorded.push(`${key}:${seq}:survivor`);
        }
      },
    });
    await eventually(() => subscription.assignedPartitions().length >= 4, 20_000);
    expect(subscription.assignedPartitions().length).toBeLessThan(16);

    // The child kills itself (SIGKILL) in the middle of its next batch: half of it reported,
    // nothing of it committed.
    child.stdin!.write('arm\n');
    await publishRange(publisher, channel, PER_KEY / 2, PER_KEY);
    const [, signal] = await exited;
    expect(signal).toBe('SIGKILL');
    await drained;

    const firsts = new Map<string, number[]>();
    await eventually(
      () => {
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
    // The killed batch's first half was reported but not committed, so it came again.
    expect(recorded.length).toBeGreaterThan(KEYS * PER_KEY);
    expect(childRecorded).toBeGreaterThan(0);
  });
});
