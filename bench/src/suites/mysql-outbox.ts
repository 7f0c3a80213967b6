import { Socket } from 'node:net';
import type { PoolConnection } from 'mysql2/promise';
import { MessageConsumer, silentLogger, type Broker, type MessageEnvelope } from '@concord/core';
import { counterEvent } from '@concord/core/testing';
import {
  MysqlBinlogRelay,
  createMysqlRelay,
  dropMysqlDatabase,
  ensureMysqlDatabase,
  openMysqlBroker,
  openMysqlStore,
  type MysqlStore,
} from '@concord/mysql';
import type { BenchRecord, BenchSuite } from '../lib/results.js';
import { nowMs, summarize } from '../lib/stats.js';

/**
 * The outbox on MariaDB, with the polling relay and the binlog-tailing relay:
 * - backlog drain: messages already committed, relayed to a broker that accepts at once, so
 *   the figure is the relay's own (read + publish + mark sent / save position and delete);
 * - end to end: one message per business transaction (a business row + the outbox row),
 *   relayed to the in-database broker on MariaDB and handled by a consumer whose inbox and
 *   effect commit in its own database: throughput, then latency at a fixed rate.
 */
const server = (process.env.CONCORD_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '');
const epochNow = () => performance.timeOrigin + performance.now();
type Mode = 'polling' | 'tailing';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => (socket.destroy(), resolve(ok));
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => done(true));
  });
}

/** Accepts every publish at once and counts, so the drain measures the relay alone. */
class CountingBroker implements Broker {
  readonly name = 'counting';
  readonly capabilities = { partitionedConsumers: false, durable: false } as const;
  count = 0;
  private waiter: { target: number; resolve: () => void } | undefined;
  async publish(messages: readonly MessageEnvelope[]): Promise<void> {
    this.count += messages.length;
    if (this.waiter && this.count >= this.waiter.target) this.waiter.resolve();
  }
  reached(target: number): Promise<void> {
    return this.count >= target ? Promise.resolve() : new Promise((resolve) => (this.waiter = { target, resolve }));
  }
  subscribe(): never {
    throw new Error('counting broker: publish only');
  }
  async close(): Promise<void> {}
}

async function freshDatabase(name: string): Promise<string> {
  const uri = `${server}/${name}`;
  await dropMysqlDatabase(uri);
  await ensureMysqlDatabase(uri);
  return uri;
}

async function drain(mode: Mode, count: number): Promise<BenchRecord> {
  const uri = await freshDatabase(`concord_bench_drain_${mode}`);
  const store = await openMysqlStore({ uri, logger: silentLogger, poolOptions: { connectionLimit: 20 } });
  const broker = new CountingBroker();
  const Counted = counterEvent('bench-drain');
  const relay = await createMysqlRelay({ mode, store, broker, logger: silentLogger, batchSize: 500 });
  if (mode === 'tailing') {
    // Let it bootstrap on the empty outbox and save its position, so the backlog below is
    // read from the binary log, not from the table.
    relay.start();
    if (relay instanceof MysqlBinlogRelay) await relay.whenTailing();
    await relay.stop();
  }
  for (let i = 0; i < count; i += 250) {
    await store.transaction(async (tx) => {
      for (let j = i; j < Math.min(count, i + 250); j++) await tx.outbox.send(Counted, { key: `key-${j % 16}`, seq: j });
    });
  }
  const started = nowMs();
  relay.start();
  await broker.reached(count);
  const seconds = (nowMs() - started) / 1000;
  await relay.stop();
  await store.close();
  await dropMysqlDatabase(uri);
  return {
    scenario: `${mode}: backlog drain (${count} committed, batches of 500, broker accepts at once)`,
    throughputPerSec: count / seconds,
    count,
    note: `${seconds.toFixed(2)} s`,
  };
}

interface Pipeline {
  send(key: string, seq: number): Promise<void>;
  onHandled: (seq: number, at: number) => void;
  close(): Promise<void>;
}

async function pipeline(mode: Mode): Promise<Pipeline> {
  const producerUri = await freshDatabase(`concord_bench_${mode}_orders`);
  const consumerUri = await freshDatabase(`concord_bench_${mode}_shipping`);
  const brokerUri = await freshDatabase(`concord_bench_${mode}_broker`);
  const poolOptions = { connectionLimit: 24 };
  const producer = await openMysqlStore({ uri: producerUri, logger: silentLogger, poolOptions });
  const consumerStore: MysqlStore = await openMysqlStore({ uri: consumerUri, logger: silentLogger, poolOptions });
  const broker = await openMysqlBroker({ uri: brokerUri, logger: silentLogger, poolOptions, pollIntervalMs: 20, maxBatchSize: 200 });
  await producer.driver.run((exec) => exec.execute('CREATE TABLE orders (id BIGINT PRIMARY KEY, k VARCHAR(32) NOT NULL)'));
  await consumerStore.driver.run((exec) => exec.execute('CREATE TABLE shipments (id BIGINT PRIMARY KEY, k VARCHAR(32) NOT NULL)'));
  const Counted = counterEvent('bench-e2e');
  const relay = await createMysqlRelay({ mode, store: producer, broker, logger: silentLogger, batchSize: 500, pollIntervalMs: 20 });
  const p: Pipeline = {
    onHandled: () => {},
    send: (key, seq) =>
      producer.transaction(async (tx) => {
        await (tx.handle as PoolConnection).query('INSERT INTO orders (id, k) VALUES (?, ?)', [seq, key]);
        await tx.outbox.send(Counted, { key, seq });
      }),
    close: async () => {
      await consumer.stop();
      await relay.stop();
      await broker.close();
      await consumerStore.close();
      await producer.close();
      for (const uri of [producerUri, consumerUri, brokerUri]) await dropMysqlDatabase(uri);
    },
  };
  const consumer = new MessageConsumer({ name: 'shipping', store: consumerStore, broker, logger: silentLogger }).handle(Counted, async (tx, m) => {
    await (tx.handle as PoolConnection).query('INSERT INTO shipments (id, k) VALUES (?, ?)', [m.seq, m.key]);
    tx.afterCommit(() => p.onHandled(m.seq, epochNow()));
  });
  relay.start();
  await consumer.start();
  if (relay instanceof MysqlBinlogRelay) await relay.whenTailing();
  return p;
}

async function throughput(p: Pipeline, from: number, count: number, concurrency: number): Promise<number> {
  let handled = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  p.onHandled = () => ++handled === count && done();
  const started = nowMs();
  let next = from;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < from + count) {
        const seq = next++;
        await p.send(`key-${seq % 16}`, seq);
      }
    }),
  );
  await all;
  return count / ((nowMs() - started) / 1000);
}

async function latency(p: Pipeline, from: number, ratePerSec: number, seconds: number) {
  const total = Math.round(ratePerSec * seconds);
  const started = new Map<number, number>();
  const samples: number[] = [];
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  p.onHandled = (seq, at) => {
    const t0 = started.get(seq);
    if (t0 === undefined) return;
    samples.push(at - t0);
    if (samples.length === total) done();
  };
  const t0 = nowMs();
  const inflight = new Set<Promise<void>>();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((nowMs() - t0) / 1000) * ratePerSec));
    while (sent < due) {
      const seq = from + sent++;
      started.set(seq, epochNow());
      const pr = p.send(`key-${seq % 16}`, seq).finally(() => inflight.delete(pr));
      inflight.add(pr);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all(inflight);
  await all;
  return { ...summarize(samples), count: samples.length, achievedPerSec: total / ((nowMs() - t0) / 1000) };
}

async function endToEnd(mode: Mode): Promise<BenchRecord[]> {
  const p = await pipeline(mode);
  try {
    await throughput(p, 0, 300, 16); // warm-up: pools, statement paths, JIT
    const count = 3_000;
    const perSec = await throughput(p, 1_000, count, 32);
    const rate = Math.max(50, Math.round(perSec / 2));
    const l = await latency(p, 10_000, rate, 5);
    return [
      { scenario: `${mode}: end to end, 1 message per business transaction (32 producers)`, throughputPerSec: perSec, count },
      {
        scenario: `${mode}: end-to-end latency at half that rate (${rate}/s)`,
        throughputPerSec: l.achievedPerSec,
        p50Ms: l.p50Ms,
        p90Ms: l.p90Ms,
        p99Ms: l.p99Ms,
        count: l.count,
        note: `commit start → handler commit; max ${l.maxMs} ms`,
      },
    ];
  } finally {
    await p.close();
  }
}

const suite: BenchSuite = {
  name: 'mysql-outbox',
  skip: async () => ((await portOpen(3306)) ? undefined : 'MariaDB is not reachable on 127.0.0.1:3306'),
  async run() {
    const records: BenchRecord[] = [];
    for (const mode of ['polling', 'tailing'] as const) records.push(await drain(mode, 20_000));
    for (const mode of ['polling', 'tailing'] as const) records.push(...(await endToEnd(mode)));
    return records;
  },
};
export default suite;
