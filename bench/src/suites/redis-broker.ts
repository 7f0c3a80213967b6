import { silentLogger } from '@concord/core';
import { testEnvelope } from '@concord/core/testing';
import { deleteKeysWithPrefix, openRedisBroker } from '@concord/redis';
import { envelopeFields } from '@concord/redis/spi';
import { Redis } from 'ioredis';
import { latencyRecord, measureLatencyAtRate, measureThroughput } from '../lib/load.js';
import { measureBrokerRate } from '../lib/broker-rate.js';
import { portOpen } from '../lib/reachable.js';
import type { BenchRecord, BenchSuite } from '../lib/results.js';
import { openSqlitePipeline } from '../lib/sqlite-pipeline.js';
import { best, nowMs, type Rate } from '../lib/stats.js';

/**
 * Redis Streams: what ioredis alone moves (XADD pipelined, XREADGROUP + XACK), what the
 * Concord broker adapter moves on the same server (16 partition streams, leases, fenced reads),
 * and the whole path outbox (SQLite) → OutboxRelay → Redis → MessageConsumer (SQLite inbox).
 */
const url = process.env.CONCORD_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `concord-bench-${Date.now().toString(36)}:`;
const reachable = () => portOpen(new URL(url).hostname, Number(new URL(url).port || 6379));

/** The fields RedisBroker writes for an envelope, so the raw client moves the same bytes. */
function sampleFields(seq: number): string[] {
  return envelopeFields(testEnvelope('bench', `key-${seq % 16}`, seq));
}

let runs = 0;

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

function brokerRate(count: number, batch: number): Promise<Rate> {
  return measureBrokerRate({
    open: () => openRedisBroker({ url, keyPrefix: prefix, logger: silentLogger, maxBatchSize: batch }),
    instances: 2,
    channel: `broker_${++runs}`,
    group: 'bench',
    count,
    batch,
    keys: 16,
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

      const p = await openSqlitePipeline({
        broker: { kind: 'redis', url, keyPrefix: prefix },
        relayBatchSize: 500,
      });
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
      records.push(latencyRecord(`same path, commit → handler commit latency at ${rate}/s`, latency));
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
