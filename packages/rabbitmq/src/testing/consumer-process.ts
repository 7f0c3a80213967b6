/**
 * A consumer in its own process, for the failover test: it prints each batch as `seen` lines
 * in two halves with a pause between. Once the test writes `arm` to its stdin, the next batch
 * is cut in the middle by a SIGKILL the process sends itself: half of it reported, nothing
 * of it committed, no chance to clean up.
 * env: RABBIT_URL, PREFIX, CHANNEL, GROUP, MEMBER_TIMEOUT_MS.
 */
import { createInterface } from 'node:readline';
import { silentLogger } from '@concord/core';
import { openRabbitBroker } from '../index.js';

let armed = false;
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'arm') armed = true;
});

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const broker = await openRabbitBroker({
  url: env('RABBIT_URL'),
  prefix: env('PREFIX'),
  memberTimeoutMs: Number(env('MEMBER_TIMEOUT_MS')),
  logger: silentLogger,
});
await broker.subscribe({
  group: env('GROUP'),
  channels: [env('CHANNEL')],
  maxBatchSize: 64,
  handler: async (batch) => {
    const lines = batch.messages.map((m) => {
      const { key, seq } = m.payload as { key: string; seq: number };
      return `seen ${key}:${seq}\n`;
    });
    const half = Math.ceil(lines.length / 2);
    process.stdout.write(lines.slice(0, half).join(''));
    // stdout to a pipe is synchronous on Linux: what was written above reaches the test.
    if (armed) process.kill(process.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 30));
    process.stdout.write(lines.slice(half).join(''));
  },
});
process.stdout.write('ready\n');
