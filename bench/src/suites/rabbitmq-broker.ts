import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageConsumer, OutboxRelay, silentLogger, type MessageEnvelope } from '@concord/core';
import { counterEvent, testEnvelope } from '@concord/core/testing';
import { openRabbitBroker, type RabbitBrokerOptions } from '@concord/rabbitmq';
import { openSqliteStore, type SqliteDriver } from '@concord/sqlite';
import { connect, type ConsumeMessage } from 'amqplib';
import { measureLatencyAtRate, measureThroughput } from '../lib/load.js';
import type { BenchRecord, BenchSuite } from '../lib/results.js';
import { nowMs } from '../lib/stats.js';

/**
 * RabbitMQ: what amqplib alone moves (publisher confirms into 16 streams, 16 stream consumers
 * with acks), what the Concord broker moves on the same layout (leases, offsets, batches), and
 * the whole path outbox (SQLite) → OutboxRelay → RabbitMQ → MessageConsumer (SQLite inbox,
 * its own process). The ratio of the last to the first is printed.
 */
const url = process.env.CONCORD_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const consumerRole = process.env.CONCORD_RABBITMQ_BENCH_CONSUMER;
const prefix = consumerRole ? (JSON.parse(consumerRole) as { prefix: string }).prefix : `bench-${Date.now().toString(36)}`;
const PARTITIONS = 16;
const epochNow = () => performance.timeOrigin + performance.now();
const brokerOptions: RabbitBrokerOptions = { url, prefix, partitions: PARTITIONS, maxBatchSize: 500, logger: silentLogger };

/** Bytes like a Concord envelope's, so both sides move the same payload. */
function sampleBody(seq: number): Buffer {
  return Buffer.from(JSON.stringify(testEnvelope('bench', `key-${seq % 16}`, seq)));
}

/** amqplib alone: confirmed publishes (`window` unconfirmed at most) and acked stream consumers. */
async function rawRate(count: number, window: number): Promise<{ perSec: number; seconds: number }> {
  const pub = await connect(url);
  const sub = await connect(url);
  const admin = await pub.createChannel();
  const streams = Array.from({ length: PARTITIONS }, (_, p) => `${prefix}/raw/${p}`);
  for (const s of streams) await admin.assertQueue(s, { durable: true, arguments: { 'x-queue-type': 'stream' } });
  let consumed = 0;
  let allConsumed!: () => void;
  const done = new Promise<void>((r) => (allConsumed = r));
  for (const s of streams) {
    const ch = await sub.createChannel();
    await ch.prefetch(1_000);
    let unacked = 0;
    await ch.consume(
      s,
      (m: ConsumeMessage | null) => {
        if (!m) return;
        JSON.parse(m.content.toString('utf8'));
        if (++unacked >= 100) {
          ch.ack(m, true);
          unacked = 0;
        }
        if (++consumed === count) allConsumed();
      },
      { noAck: false, arguments: { 'x-stream-offset': 'first' } },
    );
  }
  const ch = await pub.createConfirmChannel();
  const started = nowMs();
  let inFlight = 0;
  let freed: (() => void) | undefined;
  for (let seq = 0; seq < count; seq++) {
    while (inFlight >= window) await new Promise<void>((r) => (freed = r));
    inFlight++;
    ch.sendToQueue(streams[seq % PARTITIONS]!, sampleBody(seq), { persistent: true }, () => {
      inFlight--;
      freed?.();
      freed = undefined;
    });
  }
  await ch.waitForConfirms();
  await done;
  const seconds = (nowMs() - started) / 1000;
  for (const s of streams) await admin.deleteQueue(s);
  await sub.close();
  await pub.close();
  return { perSec: count / seconds, seconds };
}

/** The Concord broker alone: publish batches of 500, one group consuming with no-op handlers. */
async function brokerRate(count: number): Promise<{ perSec: number; seconds: number }> {
  const broker = await openRabbitBroker(brokerOptions);
  const channel = `raw-broker-${Date.now().toString(36)}`;
  let consumed = 0;
  let allConsumed!: () => void;
  const done = new Promise<void>((r) => (allConsumed = r));
  const subscription = await broker.subscribe({
    group: 'bench-broker',
    channels: [channel],
    handler: async (batch) => {
      consumed += batch.messages.length;
      if (consumed >= count) allConsumed();
    },
  });
  const all: MessageEnvelope[] = Array.from({ length: count }, (_, seq) => testEnvelope(channel, `key-${seq % 16}`, seq));
  const started = nowMs();
  for (let i = 0; i < all.length; i += 500) await broker.publish(all.slice(i, i + 500));
  await done;
  const seconds = (nowMs() - started) / 1000;
  await subscription.close();
  await broker.deleteTopology(broker.usedTopology());
  await broker.close();
  return { perSec: count / seconds, seconds };
}

interface Pipeline {
  send(key: string, seq: number): Promise<void>;
  onHandled: (seq: number, atEpochMs: number) => void;
  close(): Promise<void>;
}

/** Producer service here (business row + outbox in one SQLite transaction, relay), consumer in a child. */
async function openPipeline(): Promise<Pipeline> {
  const dir = mkdtempSync(join(tmpdir(), 'concord-bench-rabbitmq-'));
  const channel = `bench_${Date.now().toString(36)}`;
  const Counted = counterEvent(channel);
  const producer = await openSqliteStore({ filename: join(dir, 'producer.db') });
  await producer.transaction((tx) => tx.handle.exec('CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, k TEXT, seq INTEGER)'));
  const insertOrder = (producer.driver as SqliteDriver).db.prepare('INSERT INTO orders (k, seq) VALUES (?, ?)');
  const broker = await openRabbitBroker(brokerOptions);
  await broker.partitionsOf(channel);
  const relay = new OutboxRelay({ store: producer, broker, logger: silentLogger, batchSize: 1000 });
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx', '--conditions=development'],
    env: { ...process.env, CONCORD_RABBITMQ_BENCH_CONSUMER: JSON.stringify({ prefix, channel, db: join(dir, 'consumer.db') }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`consumer process exited with ${code}`)));
  });
  const pipeline: Pipeline = {
    onHandled: () => {},
    send: (key, seq) =>
      producer.transaction(async (tx) => {
        insertOrder.run(key, seq);
        await tx.outbox.send(Counted, { key, seq });
      }),
    close: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.send('stop');
      await exited;
      await relay.stop();
      await broker.deleteTopology({ channels: [channel], groups: [{ group: 'bench-view', channels: [channel] }] });
      await broker.close();
      await producer.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  child.on('message', (m) => {
    if (!Array.isArray(m)) return;
    for (let i = 0; i < m.length; i += 2) pipeline.onHandled(m[i] as number, m[i + 1] as number);
  });
  relay.start();
  return pipeline;
}

/** The consumer service, run in its own process: its own SQLite file, a view row per message. */
async function runConsumerService(role: { channel: string; db: string }): Promise<void> {
  const store = await openSqliteStore({ filename: role.db });
  await store.transaction((tx) => tx.handle.exec('CREATE TABLE IF NOT EXISTS views (id INTEGER PRIMARY KEY, k TEXT, seq INTEGER)'));
  const insertView = (store.driver as SqliteDriver).db.prepare('INSERT INTO views (k, seq) VALUES (?, ?)');
  const broker = await openRabbitBroker(brokerOptions);
  let pending: number[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    process.send!(pending);
    pending = [];
  };
  setInterval(flush, 2).unref();
  const consumer = new MessageConsumer({ name: 'bench-view', store, broker, logger: silentLogger, maxBatchSize: 500 }).handle(
    counterEvent(role.channel),
    (tx, p) => {
      insertView.run(p.key, p.seq);
      tx.afterCommit(() => pending.push(p.seq, epochNow()));
    },
  );
  await consumer.start();
  process.send!('ready');
  process.on('message', async (m) => {
    if (m !== 'stop') return;
    flush();
    await consumer.stop();
    await broker.close();
    await store.close();
    process.exit(0);
  });
}

if (consumerRole) await runConsumerService(JSON.parse(consumerRole) as { channel: string; db: string });

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (open: boolean) => (socket.destroy(), resolve(open));
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, new URL(url).hostname, () => done(true));
  });
}

const suite: BenchSuite = {
  name: 'rabbitmq-broker',
  skip: async () => ((await portOpen(Number(new URL(url).port || 5672))) ? undefined : `RabbitMQ is not reachable at ${url}`),
  async run() {
    // The machine is shared with RabbitMQ (and on CI with other services): each figure is the
    // better of two runs, raw and Concord alternating, so both meet the same background load.
    const records: BenchRecord[] = [];
    await rawRate(5_000, 1_000); // warm-up
    const raws: number[] = [];
    const paths: number[] = [];
    const p = await openPipeline();
    await measureThroughput(p, 2_000, 16); // warm-up: JIT, statement caches, first leases
    for (let round = 0; round < 2; round++) {
      raws.push((await rawRate(40_000, 2_000)).perSec);
      paths.push((await measureThroughput(p, 20_000, 64)).perSec);
    }
    const raw = Math.max(...raws);
    const path = Math.max(...paths);
    records.push({
      scenario: 'amqplib alone: confirmed publish + acked consume, 16 streams',
      throughputPerSec: raw,
      count: 40_000,
      note: `best of ${raws.map((r) => Math.round(r)).join(', ')}/s; 2,000 unconfirmed at most`,
    });
    const broker = await brokerRate(40_000);
    records.push({
      scenario: 'Concord RabbitBroker alone: publish (500/call) → subscribe',
      throughputPerSec: broker.perSec,
      count: 40_000,
      note: `${broker.seconds.toFixed(2)} s; ${(broker.perSec / raw).toFixed(2)} × amqplib alone`,
    });
    records.push({
      scenario: 'outbox → OutboxRelay → RabbitMQ → MessageConsumer (SQLite both sides, 64 producers)',
      throughputPerSec: path,
      count: 20_000,
      note: `best of ${paths.map((r) => Math.round(r)).join(', ')}/s; ${(path / raw).toFixed(2)} × amqplib alone`,
      ratioToRaw: path / raw,
    });
    const target = Math.round(path / 2);
    const l = await measureLatencyAtRate(p, target, 5);
    records.push({
      scenario: `same path, latency at half its max rate (${target}/s)`,
      throughputPerSec: l.achievedPerSec,
      p50Ms: l.p50Ms,
      p90Ms: l.p90Ms,
      p99Ms: l.p99Ms,
      count: l.count,
      note: `producer commit → handler commit; max ${l.maxMs} ms`,
    });
    await p.close();
    console.log(
      `\nrabbitmq: Concord's whole path moves ${Math.round(path)}/s, amqplib alone ${Math.round(raw)}/s: ` +
        `ratio ${(path / raw).toFixed(2)} (target ≥ 0.5)`,
    );
    return records;
  },
};
export default suite;
