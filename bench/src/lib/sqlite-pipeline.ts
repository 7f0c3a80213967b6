import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutboxRelay, silentLogger, type Broker, type SqlStore } from '@concord/core';
import { counterEvent } from '@concord/core/testing';
import { openSqliteBroker, openSqliteStore, type SqliteDatabase, type SqliteDriver } from '@concord/sqlite';

/**
 * Two services, each its own process and its own SQLite file, as deployed: the producer
 * (business transactions + outbox relay) runs here; the consumer service runs in a child
 * process; they meet in the SQLite in-database broker's file.
 */
export interface Pipeline {
  readonly producer: SqlStore<SqliteDatabase>;
  readonly broker: Broker;
  /** Commits one business row and one outbox message in one local transaction. */
  send(key: string, seq: number): Promise<void>;
  /** Called with the seq and epoch time (ms, sub-ms precision) of each handled message. */
  onHandled: (seq: number, atEpochMs: number) => void;
  close(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));

export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

export async function openSqlitePipeline(options: { partitions?: number } = {}): Promise<Pipeline> {
  const dir = mkdtempSync(join(tmpdir(), 'concord-bench-'));
  const channel = `bench_${Date.now().toString(36)}`;
  const Counted = counterEvent(channel);
  const brokerFile = join(dir, 'broker.db');
  const producer = await openSqliteStore({ filename: join(dir, 'producer.db') });
  await producer.transaction((tx) => tx.handle.exec('CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, k TEXT, seq INTEGER)'));
  const broker = await openSqliteBroker({ filename: brokerFile, logger: silentLogger, partitions: options.partitions ?? 16 });
  await broker.partitionsOf(channel);
  // Prepared once, as a service would: the benchmark measures Concord, not statement parsing.
  const insertOrder = (producer.driver as SqliteDriver).db.prepare('INSERT INTO orders (k, seq) VALUES (?, ?)');
  const relay = new OutboxRelay({ store: producer, broker, logger: silentLogger, batchSize: 1000 });

  const child: ChildProcess = fork(join(here, 'consumer-process.ts'), [join(dir, 'consumer.db'), brokerFile, channel], {
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
