import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageConsumer, OutboxRelay, silentLogger, type MessageEnvelope } from '@concord/core';
import { counterEvent, testEnvelope } from '@concord/core/testing';
import { deleteKeysWithPrefix, openRedisBroker } from '@concord/redis';
import { openSqliteStore, type SqliteDriver } from '@concord/sqlite';
import { Redis } from 'ioredis';
import { measureLatencyAtRate, measureThroughput } from '../lib/load.js';
import type { BenchRecord, BenchSuite } from '../lib/results.js';
import { nowMs } from '../lib/stats.js';

/**
 * Redis Streams: what ioredis alone moves (XADD pipelined, XREADGROUP + XACK), what the
 * Concord broker adapter moves on the same server (16 partition streams, leases, fenced reads),
 * and the whole path outbox (SQLite) → OutboxRelay → Redis → MessageConsumer (SQLite inbox).
 */
const url = process.env.CONCORD_REDIS_URL ?? 'redis://127.0.0.1:6379';
const consumerService = process.env.CONCORD_REDIS_BENCH_CONSUMER;
const prefix = consumerService
  ? (JSON.parse(consumerService) as { prefix: string }).prefix
  : `concord-bench-${Date.now().toString(36)}:`;
const epochNow = () => performance.timeOrigin + performance.now();

/** Field sizes like an envelope's, so both sides move the same bytes. */
function sampleFields(seq: number): string[] {
  const e = testEnvelope('bench', `key-${seq % 16}`, seq);
  return [
    'id',
    e.id,
    'type',
    e.type,
    'key',
    e.partitionKey,
    'headers',
    JSON.stringify(e.headers),
    'v',
    '1',
    'payload',
    JSON.stringify(e.payload),
    'at',
    String(e.createdAt),
  ];
}

interface Rate {
  readonly perSec: number;
  readonly seconds: number;
}
let runs = 0;
const best = (rates: readonly Rate[]) => rates.reduce((a, b) => (b.perSec > a.perSec ? b : a));

async function rawRate(count: number, batch: number): Promise<Rate> {
  const producer = new Redis(url);
  const consumer = new Redis(url);
  const stream = `${prefix}raw-${++runs}`;
  await producer.call('XGROUP', 'CREATE', stream, 'g', '0', 'MKSTREAM');
  const started = nowMs();
  const produce = (async () => {
    for (let i = 0; i < count; i += batch) {
      const p = producer.pipeline();
      for (let j = i; j < Math.min(count, i + batch); j++) p.xadd(stream, '*', ...sampleFields(j));
      await p.exec();
    }
  })();
  let acked = 0;
  while (acked < count) {
    const reply = (await consumer.call(
      'XREADGROUP',
      'GROUP',
      'g',
      'c',
      'COUNT',
      batch,
      'BLOCK',
      100,
      'STREAMS',
      stream,
      '>',
    )) as unknown[] | null;
    if (!reply) continue;
    // RESP3 (ioredis 6's default) flattens the stream map: [key, entries]; RESP2 nests it.
    const entries = (Array.isArray(reply[0]) ? (reply[0] as unknown[])[1] : reply[1]) as Array<
      [string, string[]]
    >;
    for (const [, fields] of entries) JSON.parse(fields[11]!); // decode the payload, as a consumer would
    acked += Number(await consumer.xack(stream, 'g', ...entries.map(([id]) => id)));
  }
  await produce;
  const seconds = (nowMs() - started) / 1000;
  producer.disconnect();
  consumer.disconnect();
  return { perSec: count / seconds, seconds };
}

async function brokerRate(count: number, batch: number): Promise<Rate> {
  const options = { url, keyPrefix: prefix, logger: silentLogger, maxBatchSize: batch };
  const publisher = await openRedisBroker(options);
  const consumer = await openRedisBroker(options);
  const channel = `broker_${++runs}`;
  const messages: MessageEnvelope[] = Array.from({ length: count }, (_, i) =>
    testEnvelope(channel, `key-${i % 16}`, i),
  );
  let handled = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const subscription = await consumer.subscribe({
    group: 'bench',
    channels: [channel],
    maxBatchSize: batch,
    handler: async (b) => {
      handled += b.messages.length;
      if (handled >= count) done();
    },
  });
  const started = nowMs();
  for (let i = 0; i < count; i += batch) await publisher.publish(messages.slice(i, i + batch));
  await all;
  const seconds = (nowMs() - started) / 1000;
  await subscription.close();
  await consumer.close();
  await publisher.close();
  return { perSec: count / seconds, seconds };
}

/**
 * Producer service and consumer service, each its own process with its own SQLite file, as
 * deployed, meeting in Redis. The consumer service is this same file run with
 * CONCORD_REDIS_BENCH_CONSUMER set (see the bottom), so the suite stays one file.
 */
async function openOutboxPipeline() {
  const dir = mkdtempSync(join(tmpdir(), 'concord-bench-redis-'));
  const channel = `e2e_${Date.now().toString(36)}`;
  const Counted = counterEvent(channel);
  const producer = await openSqliteStore({ filename: join(dir, 'producer.db') });
  await producer.transaction((tx) =>
    tx.handle.exec('CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, k TEXT, seq INTEGER)'),
  );
  const insertOrder = (producer.driver as SqliteDriver).db.prepare(
    'INSERT INTO orders (k, seq) VALUES (?, ?)',
  );
  const broker = await openRedisBroker({ url, keyPrefix: prefix, logger: silentLogger });
  await broker.partitionsOf(channel);
  const relay = new OutboxRelay({ store: producer, broker, logger: silentLogger, batchSize: 500 });
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx', '--conditions=development'],
    env: { ...process.env, CONCORD_REDIS_BENCH_CONSUMER: JSON.stringify({ dir, channel, prefix }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`consumer process exited with ${code}`)));
  });
  const pipeline = {
    onHandled: (_seq: number, _at: number) => {},
    send: (key: string, seq: number) =>
      producer.transaction(async (tx) => {
        insertOrder.run(key, seq);
        await tx.outbox.send(Counted, { key, seq });
      }),
    close: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.send('stop');
      await exited;
      await relay.stop();
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

/** The consumer service: a MessageConsumer whose handler writes a view row in its SQLite file. */
async function runConsumerService(config: { dir: string; channel: string; prefix: string }) {
  const store = await openSqliteStore({ filename: join(config.dir, 'consumer.db') });
  await store.transaction((tx) =>
    tx.handle.exec('CREATE TABLE IF NOT EXISTS views (id INTEGER PRIMARY KEY, k TEXT, seq INTEGER)'),
  );
  const insertView = (store.driver as SqliteDriver).db.prepare('INSERT INTO views (k, seq) VALUES (?, ?)');
  const broker = await openRedisBroker({ url, keyPrefix: prefix, logger: silentLogger });
  let handled: number[] = [];
  const flush = () => {
    if (handled.length > 0) process.send!(handled);
    handled = [];
  };
  setInterval(flush, 2).unref();
  const consumer = new MessageConsumer({
    name: 'bench-view',
    store,
    broker,
    logger: silentLogger,
    maxBatchSize: 500,
  }).handle(counterEvent(config.channel), (tx, p) => {
    insertView.run(p.key, p.seq);
    tx.afterCommit(() => handled.push(p.seq, epochNow()));
  });
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

function reachable(): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => (socket.destroy(), resolve(ok));
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(port || 6379), hostname, () => done(true));
  });
}

const suite: BenchSuite = {
  name: 'redis-broker',
  skip: async () => ((await reachable()) ? undefined : `Redis is not reachable at ${url}`),
  async run() {
    const records: BenchRecord[] = [];
    try {
      await rawRate(5_000, 500); // warm-up
      await brokerRate(5_000, 500);
      // Interleaved rounds, best of each: a busy machine then slows both sides alike.
      const rounds = { raw: [] as Rate[], broker: [] as Rate[] };
      for (let round = 0; round < 2; round++) {
        rounds.raw.push(await rawRate(30_000, 500));
        rounds.broker.push(await brokerRate(30_000, 500));
      }
      const raw = best(rounds.raw);
      const broker = best(rounds.broker);
      records.push({
        scenario: 'raw ioredis: XADD (pipelined 500) + XREADGROUP + XACK, 1 stream',
        throughputPerSec: raw.perSec,
        count: 30_000,
        note: `best of 2: ${rounds.raw.map((r) => Math.round(r.perSec)).join(', ')}/s`,
      });
      const ratio = broker.perSec / raw.perSec;
      records.push({
        scenario: 'RedisBroker publish (500/call) → subscribe, 16 partitions',
        throughputPerSec: broker.perSec,
        count: 30_000,
        note: `best of 2: ${rounds.broker.map((r) => Math.round(r.perSec)).join(', ')}/s; ratio to raw ${ratio.toFixed(2)} (target ≥ 0.5)`,
        ratioToRaw: ratio,
      });

      const p = await openOutboxPipeline();
      await measureThroughput(p, 2_000, 16);
      const e2e = await measureThroughput(p, 20_000, 64);
      const e2eRatio = e2e.perSec / raw.perSec;
      records.push({
        scenario:
          'outbox (SQLite) → OutboxRelay → Redis → MessageConsumer (SQLite inbox, own process), 64 producers',
        throughputPerSec: e2e.perSec,
        count: e2e.count,
        note: `${e2e.seconds.toFixed(2)} s; ratio to raw ${e2eRatio.toFixed(2)} (bounded by the two SQLite stores)`,
        ratioToRaw: e2eRatio,
      });
      const rate = Math.max(100, Math.round(e2e.perSec / 2));
      const latency = await measureLatencyAtRate(p, rate, 5);
      records.push({
        scenario: `same path, commit → handler commit latency at ${rate}/s`,
        throughputPerSec: latency.achievedPerSec,
        p50Ms: latency.p50Ms,
        p90Ms: latency.p90Ms,
        p99Ms: latency.p99Ms,
        count: latency.count,
        note: `max ${latency.maxMs} ms`,
      });
      await p.close();
      console.log(
        `redis-broker: adapter/raw ratio ${ratio.toFixed(2)}, end-to-end/raw ratio ${e2eRatio.toFixed(2)} (target ≥ 0.5)`,
      );
    } finally {
      const admin = new Redis(url);
      await deleteKeysWithPrefix(admin, prefix);
      admin.disconnect();
    }
    return records;
  },
};
export default suite;

if (consumerService)
  await runConsumerService(JSON.parse(consumerService) as { dir: string; channel: string; prefix: string });
