import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageConsumer, OutboxRelay, silentLogger, type MessageEnvelope } from '@concord/core';
import { counterEvent, testEnvelope } from '@concord/core/testing';
import { openNatsBroker, type NatsBroker } from '@concord/nats';
import { openSqliteStore, type SqliteDriver } from '@concord/sqlite';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { measureLatencyAtRate, measureThroughput } from '../lib/load.js';
import type { BenchRecord, BenchSuite } from '../lib/results.js';
import { nowMs } from '../lib/stats.js';

/**
 * NATS JetStream: what the nats client alone moves (JetStream publish with PubAcks, a durable
 * pull consumer with acks), what the Concord broker moves on the same server (16 partitions,
 * leases, per-partition ordered publish), and the whole path outbox (SQLite) → OutboxRelay →
 * NATS → MessageConsumer (SQLite inbox, own process).
 */
const servers = process.env.CONCORD_NATS_URL ?? '127.0.0.1:4222';
const consumerService = process.env.CONCORD_NATS_BENCH_CONSUMER;
const streamPrefix = consumerService
  ? (JSON.parse(consumerService) as { streamPrefix: string }).streamPrefix
  : `bench-${Date.now().toString(36)}`;
const epochNow = () => performance.timeOrigin + performance.now();

/** Bytes like a Concord envelope's, so both sides move the same payload. */
function sampleBody(seq: number): string {
  return JSON.stringify(testEnvelope('bench', `key-${seq % 16}`, seq));
}

async function rawRate(count: number, window: number): Promise<{ perSec: number; seconds: number }> {
  const nc = await connect({ servers });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const stream = `${streamPrefix}-raw-${count}`;
  await jsm.streams.add({ name: stream, subjects: [`${stream}.*`] });
  await jsm.consumers.add(stream, { durable_name: 'raw', ack_policy: AckPolicy.Explicit, max_ack_pending: 2 * window });
  const bodies = Array.from({ length: count }, (_, i) => sampleBody(i));
  const started = nowMs();
  const produce = (async () => {
    for (let i = 0; i < count; i += window) {
      const acks = [];
      for (let j = i; j < Math.min(count, i + window); j++) acks.push(js.publish(`${stream}.${j % 16}`, bodies[j], { msgID: `m${j}` }));
      await Promise.all(acks);
    }
  })();
  const messages = await (await js.consumers.get(stream, 'raw')).consume({ max_messages: window });
  let acked = 0;
  for await (const m of messages) {
    m.json(); // decode, as a consumer would
    m.ack();
    if (++acked === count) break;
  }
  await produce;
  const seconds = (nowMs() - started) / 1000;
  await jsm.streams.delete(stream);
  await nc.close();
  return { perSec: count / seconds, seconds };
}

async function brokerRate(count: number, batch: number): Promise<{ perSec: number; seconds: number }> {
  const options = { servers, streamPrefix, logger: silentLogger, maxBatchSize: batch };
  const publisher = await openNatsBroker(options);
  const consumer = await openNatsBroker(options);
  const channel = `broker_${count}_${Date.now().toString(36)}`;
  const messages: MessageEnvelope[] = Array.from({ length: count }, (_, i) => testEnvelope(channel, `key-${i % 64}`, i));
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
 * deployed, meeting in NATS. The consumer service is this file run with
 * CONCORD_NATS_BENCH_CONSUMER set (see the bottom), so the suite stays one file.
 */
async function openOutboxPipeline() {
  const dir = mkdtempSync(join(tmpdir(), 'concord-bench-nats-'));
  const channel = `e2e_${Date.now().toString(36)}`;
  const Counted = counterEvent(channel);
  const producer = await openSqliteStore({ filename: join(dir, 'producer.db') });
  await producer.transaction((tx) => tx.handle.exec('CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, k TEXT, seq INTEGER)'));
  const insertOrder = (producer.driver as SqliteDriver).db.prepare('INSERT INTO orders (k, seq) VALUES (?, ?)');
  const broker = await openNatsBroker({ servers, streamPrefix, logger: silentLogger });
  await broker.partitionsOf(channel);
  const relay = new OutboxRelay({ store: producer, broker, logger: silentLogger, batchSize: 500 });
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx', '--conditions=development'],
    env: { ...process.env, CONCORD_NATS_BENCH_CONSUMER: JSON.stringify({ dir, channel, streamPrefix }) },
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
async function runConsumerService(config: { dir: string; channel: string; streamPrefix: string }) {
  const store = await openSqliteStore({ filename: join(config.dir, 'consumer.db') });
  await store.transaction((tx) => tx.handle.exec('CREATE TABLE IF NOT EXISTS views (id INTEGER PRIMARY KEY, k TEXT, seq INTEGER)'));
  const insertView = (store.driver as SqliteDriver).db.prepare('INSERT INTO views (k, seq) VALUES (?, ?)');
  const broker = await openNatsBroker({ servers, streamPrefix: config.streamPrefix, logger: silentLogger });
  let handled: number[] = [];
  const flush = () => {
    if (handled.length > 0) process.send!(handled);
    handled = [];
  };
  setInterval(flush, 2).unref();
  const consumer = new MessageConsumer({ name: 'bench-view', store, broker, logger: silentLogger, maxBatchSize: 500 }).handle(
    counterEvent(config.channel),
    (tx, p) => {
      insertView.run(p.key, p.seq);
      tx.afterCommit(() => handled.push(p.seq, epochNow()));
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

function reachable(): Promise<boolean> {
  const [host, port] = servers.replace(/^nats:\/\//, '').split(':');
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => (socket.destroy(), resolve(ok));
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(port || 4222), host || '127.0.0.1', () => done(true));
  });
}

const suite: BenchSuite = {
  name: 'nats-broker',
  skip: async () => ((await reachable()) ? undefined : `NATS is not reachable at ${servers}`),
  async run() {
    const records: BenchRecord[] = [];
    let admin: NatsBroker | undefined;
    try {
      await rawRate(2_000, 256); // warm-up
      // Measured before and after the rest; the better run is the baseline, so background load
      // on a shared machine cannot flatter the ratios.
      const rawBefore = await rawRate(15_000, 256);

      await brokerRate(2_000, 500);
      const broker = await brokerRate(15_000, 500);

      const p = await openOutboxPipeline();
      await measureThroughput(p, 2_000, 16);
      const e2e = await measureThroughput(p, 15_000, 64);
      // Latency at a steady moderate rate, and at half the measured maximum.
      const rates = [500, Math.max(600, Math.round(e2e.perSec / 2))];
      const latencies = [];
      for (const rate of rates) latencies.push({ rate, ...(await measureLatencyAtRate(p, rate, 4)) });
      await p.close();

      const rawAfter = await rawRate(15_000, 256);
      const raw = rawBefore.perSec >= rawAfter.perSec ? rawBefore : rawAfter;
      records.push({
        scenario: 'raw nats client: JetStream publish (256 acks in flight) + durable pull consume + ack, 16 subjects',
        throughputPerSec: raw.perSec,
        count: 15_000,
        note: `best of ${Math.round(rawBefore.perSec)}/s (first) and ${Math.round(rawAfter.perSec)}/s (last)`,
      });
      const ratio = broker.perSec / raw.perSec;
      records.push({
        scenario: 'NatsBroker publish (500/call, ordered per partition) → subscribe, 16 partitions, one process',
        throughputPerSec: broker.perSec,
        count: 15_000,
        note: `${broker.seconds.toFixed(2)} s; ratio to raw ${ratio.toFixed(2)}`,
        ratioToRaw: ratio,
      });
      const e2eRatio = e2e.perSec / raw.perSec;
      records.push({
        scenario: 'outbox (SQLite) → OutboxRelay → NATS → MessageConsumer (SQLite inbox, own process), 64 producers',
        throughputPerSec: e2e.perSec,
        count: e2e.count,
        note: `${e2e.seconds.toFixed(2)} s; ratio to raw ${e2eRatio.toFixed(2)} (target ≥ 0.5)`,
        ratioToRaw: e2eRatio,
      });
      for (const latency of latencies) {
        records.push({
          scenario: `same path, commit → handler commit latency at ${latency.rate}/s`,
          throughputPerSec: latency.achievedPerSec,
          p50Ms: latency.p50Ms,
          p90Ms: latency.p90Ms,
          p99Ms: latency.p99Ms,
          count: latency.count,
          note: `max ${latency.maxMs} ms`,
        });
      }
      console.log(
        `nats-broker: raw ${Math.round(raw.perSec)}/s, broker ${Math.round(broker.perSec)}/s (×${ratio.toFixed(2)}), ` +
          `end-to-end ${Math.round(e2e.perSec)}/s (×${e2eRatio.toFixed(2)}, target ≥ 0.5), ` +
          latencies.map((l) => `p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms at ${l.rate}/s`).join('; ') +
          ` (load average ${loadavg()[0]!.toFixed(1)})`,
      );
    } finally {
      admin = await openNatsBroker({ servers, streamPrefix, logger: silentLogger });
      await admin.deleteStreams();
      await admin.close();
    }
    return records;
  },
};
export default suite;

if (consumerService) await runConsumerService(JSON.parse(consumerService) as { dir: string; channel: string; streamPrefix: string });
