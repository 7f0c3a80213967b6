import { silentLogger } from '@concord/core';
import { testEnvelope } from '@concord/core/testing';
import { openRabbitBroker, type RabbitBrokerOptions } from '@concord/rabbitmq';
import { connect, type ConsumeMessage } from 'amqplib';
import type { BrokerSpec } from '../lib/bench-broker.js';
import { latencyRecord, measureLatencyAtRate, measureThroughput } from '../lib/load.js';
import { measureBrokerRate } from '../lib/broker-rate.js';
import { portOpen } from '../lib/reachable.js';
import type { BenchRecord, BenchSuite } from '../lib/results.js';
import { openSqlitePipeline } from '../lib/sqlite-pipeline.js';
import { nowMs, type Rate } from '../lib/stats.js';

/**
 * RabbitMQ: what amqplib alone moves (publisher confirms into 16 streams, 16 stream consumers
 * with acks), what the Concord broker moves on the same layout (leases, offsets, batches), and
 * the whole path outbox (SQLite) → OutboxRelay → RabbitMQ → MessageConsumer (SQLite inbox,
 * its own process). The ratio of the last to the first is printed.
 */
const url = process.env.CONCORD_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const prefix = `bench-${Date.now().toString(36)}`;
const PARTITIONS = 16;
const brokerOptions: RabbitBrokerOptions = { url, prefix, partitions: PARTITIONS, maxBatchSize: 500, logger: silentLogger };
/** The same broker, for the pipeline's two processes. */
const brokerSpec: BrokerSpec = { kind: 'rabbitmq', url, prefix, partitions: PARTITIONS, maxBatchSize: 500 };

/** Bytes like a Concord envelope's, so both sides move the same payload. */
function sampleBody(seq: number): Buffer {
  return Buffer.from(JSON.stringify(testEnvelope('bench', `key-${seq % 16}`, seq)));
}

/** amqplib alone: confirmed publishes (`window` unconfirmed at most) and acked stream consumers. */
async function rawRate(count: number, window: number): Promise<Rate> {
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
function brokerRate(count: number): Promise<Rate> {
  return measureBrokerRate({
    open: () => openRabbitBroker(brokerOptions),
    instances: 1,
    cleanUp: (broker) => broker.deleteTopology(broker.usedTopology()),
    channel: `raw-broker-${Date.now().toString(36)}`,
    group: 'bench-broker',
    count,
    batch: 500,
    keys: 16,
  });
}

const reachable = () => portOpen(new URL(url).hostname, Number(new URL(url).port || 5672));

const suite: BenchSuite = {
  name: 'rabbitmq-broker',
  skip: async () => ((await reachable()) ? undefined : `RabbitMQ is not reachable at ${url}`),
  async run() {
    // The machine is shared with RabbitMQ (and on CI with other services): each figure is the
    // better of two runs, raw and Concord alternating, so both meet the same background load.
    const records: BenchRecord[] = [];
    await rawRate(5_000, 1_000); // warm-up
    const raws: number[] = [];
    const paths: number[] = [];
    const p = await openSqlitePipeline({ broker: brokerSpec });
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
    records.push(latencyRecord(`same path, latency at half its max rate (${target}/s)`, l, 'producer commit → handler commit'));
    await p.close();
    console.log(
      `\nrabbitmq: Concord's whole path moves ${Math.round(path)}/s, amqplib alone ${Math.round(raw)}/s: ` +
        `ratio ${(path / raw).toFixed(2)} (target ≥ 0.5)`,
    );
    return records;
  },
};
export default suite;
