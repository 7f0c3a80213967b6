/**
 * A WAL tailing relay in its own process, for tests that kill it with SIGKILL.
 * argv: <database url> <store schema> <broker schema> <slot> <max batch size> [publish delay ms]
 * Prints "ready" once it streams.
 */
import { silentLogger } from '@concord/core';
import { openPostgresBroker, openPostgresStore } from '../index.js';
import { PostgresTailingRelay } from '../tailing-relay.js';

const [url, storeSchema, brokerSchema, slot, batch, delay] = process.argv.slice(2) as [string, string, string, string, string, string?];
const store = await openPostgresStore({ connectionString: url, schema: storeSchema, poolSize: 3, logger: silentLogger });
const broker = await openPostgresBroker({ connectionString: url, schema: brokerSchema, poolSize: 3, logger: silentLogger });
// A slower broker keeps the relay mid-stream long enough for the test to kill it there.
const publish = broker.publish.bind(broker);
broker.publish = async (messages) => {
  await new Promise((r) => setTimeout(r, Number(delay ?? 0)));
  return publish(messages);
};
const relay = new PostgresTailingRelay({ store, broker, slotName: slot, maxBatchSize: Number(batch), publishConcurrency: 1, logger: silentLogger });
relay.start();
while (relay.getStats().connects === 0) await new Promise((r) => setTimeout(r, 10));
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
