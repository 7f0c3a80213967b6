import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutboxRelay, silentLogger, type SqlStore } from '@concord/core';
import { counterEvent } from '@concord/core/testing';
import { openSqliteStore, type SqliteDatabase } from '@concord/sqlite';
import { type SqliteDriver } from '@concord/sqlite/spi';
import { openBenchBroker, type BrokerSpec, type PartitionedBroker } from './bench-broker.js';
import type { ConsumerServiceConfig } from './consumer-process.js';

/**
 * Two services, each its own process and its own SQLite file, as deployed: the producer
 * (business transactions + outbox relay) runs here; the consumer service runs in a child
 * process; they meet in the broker `broker` describes (default: the SQLite in-database broker's
 * file).
 */
export interface Pipeline {
  readonly producer: SqlStore<SqliteDatabase>;
  readonly broker: PartitionedBroker;
  /** Commits one business row and one outbox message in one local transaction. */
  send(key: string, seq: number): Promise<void>;
  /** Called with the seq and epoch time (ms, sub-ms precision) of each handled message. */
  onHandled: (seq: number, atEpochMs: number) => void;
  close(): Promise<void>;
}

export interface PipelineOptions {
  readonly broker?: BrokerSpec;
  /** Messages the relay reads and publishes per batch. Default 1000. */
  readonly relayBatchSize?: number;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The consumer service's group, as named in `consumer-process.ts`. */
const GROUP = 'bench-view';

export async function openSqlitePipeline(options: PipelineOptions = {}): Promise<Pipeline> {
  const spec = options.broker ?? { kind: 'sqlite' };
  const dir = mkdtempSync(join(tmpdir(), `concord-bench-${spec.kind}-`));
  const channel = `bench_${Date.now().toString(36)}`;
  const Counted = counterEvent(channel);
  const producer = await openSqliteStore({ filename: join(dir, 'producer.db') });
  await producer.transaction((tx) =>
    tx.handle.exec('CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, k TEXT, seq INTEGER)'),
  );
  const { broker, close: closeBroker } = await openBenchBroker(spec, dir);
  await broker.partitionsOf(channel);
  // Prepared once, as a service would: the benchmark measures Concord, not statement parsing.
  const insertOrder = (producer.driver as SqliteDriver).db.prepare(
    'INSERT INTO orders (k, seq) VALUES (?, ?)',
  );
  const relay = new OutboxRelay({
    store: producer,
    broker,
    logger: silentLogger,
    batchSize: options.relayBatchSize ?? 1000,
  });

  const config: ConsumerServiceConfig = { dir, channel, group: GROUP, broker: spec };
  const child: ChildProcess = fork(join(here, 'consumer-process.ts'), [JSON.stringify(config)], {
    execArgv: ['--import', 'tsx', '--conditions=development'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`consumer process exited with ${code}`)));
  });

  const pipeline: Pipeline = {
    producer,
    broker,
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
      await closeBroker({ channel, group: GROUP });
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
