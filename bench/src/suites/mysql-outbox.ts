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
import { latencyRecord, measureLatencyAtRate, measureThroughput, type LoadTarget } from '../lib/load.js';
import { portOpen } from '../lib/reachable.js';
import type { BenchRecord, BenchSuite } from '../lib/results.js';
import { epochNowMs, nowMs } from '../lib/stats.js';

/**
 * The outbox on MariaDB, with the polling relay and the binlog-tailing relay:
 * - backlog drain: messages already committed, relayed to a broker that accepts at once, so
 *   the figure is the relay's own (read + publish + mark sent / save position and delete);
 * - end to end: one message per business transaction (a business row + the outbox row),
 *   relayed to the in-database broker on MariaDB and handled by a consumer whose inbox and
 *   effect commit in its own database: throughput, then latency at a fixed rate.
 */
const server = (process.env.CONCORD_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '');
type Mode = 'polling' | 'tailing';

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
  const store = await openMysqlStore({ connectionString: uri, logger: silentLogger, poolSize: 20 });
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

interface Pipeline extends LoadTarget {
  close(): Promise<void>;
}

async function pipeline(mode: Mode): Promise<Pipeline> {
  const producerUri = await freshDatabase(`concord_bench_${mode}_orders`);
  const consumerUri = await freshDatabase(`concord_bench_${mode}_shipping`);
  const brokerUri = await freshDatabase(`concord_bench_${mode}_broker`);
  const poolSize = 24;
  const producer = await openMysqlStore({ connectionString: producerUri, logger: silentLogger, poolSize });
  const consumerStore: MysqlStore = await openMysqlStore({ connectionString: consumerUri, logger: silentLogger, poolSize });
  const broker = await openMysqlBroker({ connectionString: brokerUri, logger: silentLogger, poolSize, pollIntervalMs: 20, maxBatchSize: 200 });
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
    tx.afterCommit(() => p.onHandled(m.seq, epochNowMs()));
  });
  relay.start();
  await consumer.start();
  if (relay instanceof MysqlBinlogRelay) await relay.whenTailing();
  return p;
}

async function endToEnd(mode: Mode): Promise<BenchRecord[]> {
  const p = await pipeline(mode);
  try {
    // Orders are keyed by seq, so each measurement sends fresh ones.
    await measureThroughput(p, 300, 16); // warm-up: pools, statement paths, JIT
    const count = 3_000;
    const { perSec } = await measureThroughput(p, count, 32, { firstSeq: 1_000 });
    const rate = Math.max(50, Math.round(perSec / 2));
    const l = await measureLatencyAtRate(p, rate, 5, { firstSeq: 10_000 });
    return [
      { scenario: `${mode}: end to end, 1 message per business transaction (32 producers)`, throughputPerSec: perSec, count },
      latencyRecord(`${mode}: end-to-end latency at half that rate (${rate}/s)`, l, 'commit start → handler commit'),
    ];
  } finally {
    await p.close();
  }
}

const suite: BenchSuite = {
  name: 'mysql-outbox',
  skip: async () => ((await portOpen('127.0.0.1', 3306)) ? undefined : 'MariaDB is not reachable on 127.0.0.1:3306'),
  async run() {
    const records: BenchRecord[] = [];
    for (const mode of ['polling', 'tailing'] as const) records.push(await drain(mode, 20_000));
    for (const mode of ['polling', 'tailing'] as const) records.push(...(await endToEnd(mode)));
    return records;
  },
};
export default suite;
