/**
 * A polling relay in its own process, for tests that kill it with SIGKILL.
 * argv: <database url> <store schema> <broker schema> <batch size> [publish delay ms]
 * Prints "ready" once its relay runs.
 */
import { silentLogger } from '@concord/core';
import { openPostgresBroker, openPostgresStore } from '../index.js';
import { PostgresPollingRelay } from '../polling-relay.js';

const [url, storeSchema, brokerSchema, batch, delay] = process.argv.slice(2) as [string, string, string, string, string?];
const store = await openPostgresStore({ connectionString: url, schema: storeSchema, poolSize: 3, logger: silentLogger });
const broker = await openPostgresBroker({ connectionString: url, schema: brokerSchema, poolSize: 3, logger: silentLogger });
// A slower broker keeps the relay mid-stream long enough for the test to kill it there.
const publish = broker.publish.bind(broker);
broker.publish = async (messages) => {
  await new Promise((r) => setTimeout(r, Number(delay ?? 0)));
  return publish(messages);
};
const relay = new PostgresPollingRelay({
  store,
  broker,
  batchSize: Number(batch),
  publishConcurrency: 1,
  pollIntervalMs: 100,
  logger: silentLogger,
});
relay.start();
process.stdout.write('ready\n');
// The parent holds our stdin: when it goes away, so do we.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', async () => {
  setTimeout(() => process.exit(1), 5_000).unref();
  await relay.stop();
  await broker.close();
  await store.close();
  process.exit(0);
});
