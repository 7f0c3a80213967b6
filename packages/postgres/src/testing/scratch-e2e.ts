import { MessageConsumer, silentLogger } from '@concord/core';
import { counterEvent } from '@concord/core/testing';
import { openPostgresBroker, openPostgresStore, PostgresPollingRelay } from '../index.js';
import { createTestDatabase } from './test-database.js';

const stage = process.argv[2] ?? 'producer';
const notifyMode = (process.argv[3] ?? 'in-transaction') as 'in-transaction' | 'after-commit';
const db = await createTestDatabase('scratch');
try {
  const Counted = counterEvent('e2e');
  const producer = await openPostgresStore({ connectionString: db.url, schema: 'producer', poolSize: 20, logger: silentLogger, notifyMode });
  const broker = await openPostgresBroker({ connectionString: db.url, schema: 'broker', poolSize: 10, logger: silentLogger, notifyMode, partitions: Number(process.env.PARTS ?? 16) });
  const cstore = await openPostgresStore({ connectionString: db.url, schema: 'consumer', poolSize: 10, logger: silentLogger, notifyMode });
  await producer.transaction(async (tx) => {
    await tx.handle.query('CREATE TABLE public.accounts (k int PRIMARY KEY, balance bigint NOT NULL DEFAULT 0)');
    await tx.handle.query('CREATE TABLE public.orders (id bigserial PRIMARY KEY, k int NOT NULL, amount int NOT NULL, created_at bigint NOT NULL)');
    await tx.handle.query('INSERT INTO public.accounts (k) SELECT g FROM generate_series(1, 1000) g');
  });
  await broker.partitionsOf('e2e');
  let handled = 0;
  const relay = new PostgresPollingRelay({ store: producer, broker, logger: silentLogger });
  const consumer = new MessageConsumer({ name: 'v', store: cstore, broker, logger: silentLogger }).handle(Counted, async () => { handled++; });
  if (stage !== 'producer') relay.start();
  if (stage === 'full') await consumer.start();
  let seq = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (performance.now() - t0 < 5000) {
      const n = seq++;
      const k = 1 + Math.floor(Math.random() * 1000);
      await producer.transaction(async (tx) => {
        await tx.handle.query('INSERT INTO public.orders (k, amount, created_at) VALUES ($1, 1, $2)', [k, Date.now()]);
        await tx.handle.query('UPDATE public.accounts SET balance = balance + 1 WHERE k = $1', [k]);
        await tx.outbox.send(Counted, { key: `key-${n % 64}`, seq: n });
      });
    }
  }));
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  console.log(stage, notifyMode, 'tx/s', (seq / secs).toFixed(0), 'node cpu %', (((cpu.user + cpu.system) / 1e6 / secs) * 100).toFixed(0), 'lag', (await producer.outbox.lag()).count, 'handled', handled);
  await consumer.stop(); await relay.stop(); await broker.close(); await cstore.close(); await producer.close();
} finally {
  await db.drop();
}
