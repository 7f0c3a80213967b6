import { loadavg } from 'node:os';
import { silentLogger } from '@concord/core';
import { testEnvelope } from '@concord/core/testing';
import { openNatsBroker } from '@concord/nats';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { latencyRecord, measureLatencyAtRate, measureThroughput } from '../lib/load.js';
import { measureBrokerRate } from '../lib/broker-rate.js';
import { portOpen } from '../lib/reachable.js';
import type { BenchRecord, BenchSuite } from '../lib/results.js';
import { openSqlitePipeline } from '../lib/sqlite-pipeline.js';
import { best, nowMs, type Rate } from '../lib/stats.js';

/**
 * NATS JetStream: what the nats client alone moves (JetStream publish with PubAcks, a durable
 * pull consumer with acks), what the Concord broker moves on the same server (16 partitions,
 * leases, per-partition ordered publish), and the whole path outbox (SQLite) → OutboxRelay →
 * NATS → MessageConsumer (SQLite inbox, own process).
 */
const servers = process.env.CONCORD_NATS_URL ?? '127.0.0.1:4222';
const streamPrefix = `bench-${Date.now().toString(36)}`;
const [host, port] = servers.replace(/^nats:\/\//, '').split(':');
const reachable = () => portOpen(host || '127.0.0.1', Number(port || 4222));

/** Bytes like a Concord envelope's, so both sides move the same payload. */
function sampleBody(seq: number): string {
  return JSON.stringify(testEnvelope('bench', `key-${seq % 16}`, seq));
}

async function rawRate(count: number, window: number): Promise<Rate> {
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

function brokerRate(count: number, batch: number): Promise<Rate> {
  return measureBrokerRate({
    open: () => openNatsBroker({ servers, streamPrefix, logger: silentLogger, maxBatchSize: batch }),
    instances: 2,
    channel: `broker_${count}_${Date.now().toString(36)}`,
    group: 'bench',
    count,
    batch,
    keys: 64,
  });
}

const suite: BenchSuite = {
  name: 'nats-broker',
  skip: async () => ((await reachable()) ? undefined : `NATS is not reachable at ${servers}`),
  async run() {
    const records: BenchRecord[] = [];
    try {
      await rawRate(2_000, 256); // warm-up
      // Measured before and after the rest; the better run is the baseline, so background load
      // on a shared machine cannot flatter the ratios.
      const rawBefore = await rawRate(15_000, 256);

      await brokerRate(2_000, 500);
      const broker = await brokerRate(15_000, 500);

      const p = await openSqlitePipeline({ broker: { kind: 'nats', servers, streamPrefix }, relayBatchSize: 500 });
      await measureThroughput(p, 2_000, 16);
      const e2e = await measureThroughput(p, 15_000, 64);
      // Latency at a steady moderate rate, and at half the measured maximum.
      const rates = [500, Math.max(600, Math.round(e2e.perSec / 2))];
      const latencies = [];
      for (const rate of rates) latencies.push({ rate, ...(await measureLatencyAtRate(p, rate, 4)) });
      await p.close();

      const rawAfter = await rawRate(15_000, 256);
      const raw = best([rawBefore, rawAfter]);
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
      for (const l of latencies) records.push(latencyRecord(`same path, commit → handler commit latency at ${l.rate}/s`, l));
      console.log(
        `nats-broker: raw ${Math.round(raw.perSec)}/s, broker ${Math.round(broker.perSec)}/s (×${ratio.toFixed(2)}), ` +
          `end-to-end ${Math.round(e2e.perSec)}/s (×${e2eRatio.toFixed(2)}, target ≥ 0.5), ` +
          latencies.map((l) => `p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms at ${l.rate}/s`).join('; ') +
          ` (load average ${loadavg()[0]!.toFixed(1)})`,
      );
    } finally {
      const admin = await openNatsBroker({ servers, streamPrefix, logger: silentLogger });
      await admin.deleteStreams();
      await admin.close();
    }
    return records;
  },
};
export default suite;
