/**
 * The consumer service of the benchmark, as its own process (as it would be deployed): its own
 * SQLite file, the shared broker file, a MessageConsumer whose handler writes a view row.
 * Reports `[seq, epochMs]` of each committed handler transaction to the parent over IPC.
 * argv: <consumer db> <broker db> <channel>
 */
import { MessageConsumer, silentLogger } from '@concord/core';
import { counterEvent } from '@concord/core/testing';
import { openSqliteBroker, openSqliteStore, type SqliteDriver } from '@concord/sqlite';

const [storeFile, brokerFile, channel] = process.argv.slice(2) as [string, string, string];
const store = await openSqliteStore({ filename: storeFile });
const broker = await openSqliteBroker({ filename: brokerFile, logger: silentLogger });
await store.transaction((tx) => tx.handle.exec('CREATE TABLE IF NOT EXISTS views (id INTEGER PRIMARY KEY, k TEXT, seq INTEGER)'));
const insertView = (store.driver as SqliteDriver).db.prepare('INSERT INTO views (k, seq) VALUES (?, ?)');

let pending: number[] = [];
const flush = () => {
  if (pending.length === 0) return;
  process.send!(pending);
  pending = [];
};
setInterval(flush, 2).unref();

const consumer = new MessageConsumer({ name: 'bench-view', store, broker, logger: silentLogger, maxBatchSize: 500 }).handle(
  counterEvent(channel),
  (tx, p) => {
    insertView.run(p.key, p.seq);
    tx.afterCommit(() => pending.push(p.seq, performance.timeOrigin + performance.now()));
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
