/**
 * The consumer service of a benchmark pipeline, as its own process (as it would be deployed):
 * its own SQLite file, the pipeline's broker, a MessageConsumer whose handler writes a view row.
 * Reports `[seq, epochMs, ...]` of committed handler transactions to the parent over IPC.
 * argv: <ConsumerServiceConfig as JSON>
 */
import { join } from 'node:path';
import { MessageConsumer, silentLogger } from '@concord/core';
import { counterEvent } from '@concord/core/testing';
import { openSqliteStore } from '@concord/sqlite';
import { type SqliteDriver } from '@concord/sqlite/spi';
import { openBenchBroker, type BrokerSpec } from './bench-broker.js';
import { epochNowMs } from './stats.js';

export interface ConsumerServiceConfig {
  /** The pipeline's directory: the consumer's `consumer.db` (and the SQLite broker's file). */
  readonly dir: string;
  readonly channel: string;
  readonly group: string;
  readonly broker: BrokerSpec;
}

async function runConsumerService(config: ConsumerServiceConfig): Promise<void> {
  const store = await openSqliteStore({ filename: join(config.dir, 'consumer.db') });
  await store.transaction((tx) =>
    tx.handle.exec('CREATE TABLE IF NOT EXISTS views (id INTEGER PRIMARY KEY, k TEXT, seq INTEGER)'),
  );
  const insertView = (store.driver as SqliteDriver).db.prepare('INSERT INTO views (k, seq) VALUES (?, ?)');
  const { broker } = await openBenchBroker(config.broker, config.dir);

  let pending: number[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    process.send!(pending);
    pending = [];
  };
  setInterval(flush, 2).unref();

  const consumer = new MessageConsumer({
    name: config.group,
    store,
    broker,
    logger: silentLogger,
    maxBatchSize: 500,
  }).handle(counterEvent(config.channel), (tx, p) => {
    insertView.run(p.key, p.seq);
    tx.afterCommit(() => pending.push(p.seq, epochNowMs()));
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

// Imported for its types by the parent; runs only as the forked child.
if (process.send && process.argv[2])
  await runConsumerService(JSON.parse(process.argv[2]) as ConsumerServiceConfig);
