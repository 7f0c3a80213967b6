import type { PoolClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, type Logger, type MessageEnvelope, type Subscription } from '@concord/core';
import { counterEvent, eventually, serviceAvailable, services, uniqueName } from '@concord/core/testing';
import {
  createPostgresRelay,
  openPostgresBroker,
  openPostgresStore,
  PostgresTailingRelay,
  type PostgresBroker,
  type PostgresStore,
  type PostgresTailingRelayOptions,
} from './index.js';
import { kill, startScript } from './testing/child-process.js';
import { produce } from './testing/produce.js';
import { DeliveryRecorder } from './testing/recorder.js';
import { createTestDatabase, type TestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.postgres);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function capturingLogger(): Logger & { warnings: Array<{ obj: object; msg?: string }> } {
  const warnings: Array<{ obj: object; msg?: string }> = [];
  const logger = {
    warnings,
    debug: () => {},
    info: () => {},
    error: () => {},
    warn: (obj: object, msg?: string) => warnings.push({ obj, msg }),
    child: () => logger,
  };
  return logger;
}

describe.skipIf(!available)('postgres WAL tailing relay', () => {
  let db: TestDatabase;
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    db = await createTestDatabase('tail');
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await db?.drop();
  });

  async function open(name: string): Promise<{ store: PostgresStore; broker: PostgresBroker }> {
    const store = await openPostgresStore({ connectionString: db.url, schema: `${name}_store`, poolSize: 4, logger: silentLogger });
    const broker = await openPostgresBroker({ connectionString: db.url, schema: `${name}_broker`, poolSize: 6, logger: silentLogger });
    closers.push(() => store.close(), () => broker.close());
    return { store, broker };
  }

  async function consume(broker: PostgresBroker, channel: string): Promise<DeliveryRecorder> {
    const recorder = new DeliveryRecorder();
    const sub: Subscription = await broker.subscribe({ group: uniqueName('g'), channels: [channel], handler: recorder.handler });
    closers.push(() => sub.close());
    return recorder;
  }

  function tailing(store: PostgresStore, broker: PostgresBroker, extra: Partial<PostgresTailingRelayOptions<PoolClient>> = {}) {
    const relay = new PostgresTailingRelay({ store, broker, slotName: uniqueName('slot'), logger: silentLogger, ...extra });
    closers.push(() => relay.stop());
    return relay;
  }

  it('publishes committed inserts in commit order, none from rollbacks, and marks them sent', async () => {
    const channel = uniqueName('order');
    const { store, broker } = await open('order');
    const before = await produce(store, channel, 16, 10); // committed before the slot existed
    const relay = tailing(store, broker);
    relay.start();
    await eventually(() => relay.getStats().connects > 0, 10_000);
    const recorder = await consume(broker, channel);
    await store
      .transaction(async (tx) => {
        await tx.outbox.send(counterEvent(channel), { key: 'rolled-back', seq: 0 });
        throw new Error('rollback');
      })
      .catch(() => undefined);
    const after = await produce(store, channel, 16, 300, 50, 10);
    const total = before.length + after.length;
    await eventually(() => recorder.unique === total, 30_000);
    expect(recorder.outOfOrderKeys(310)).toEqual([]);
    expect(recorder.firstSeqs.has('rolled-back')).toBe(false);
    await eventually(async () => (await relay.lag()).count === 0, 10_000);
    expect(relay.getStats().confirmedLsn).not.toBeNull();
  });

  it('stopped mid-stream, a new relay resumes from the confirmed position with no loss', async () => {
    const channel = uniqueName('resume');
    const { store, broker } = await open('resume');
    const slotName = uniqueName('slot');
    // A slower broker keeps the first relay mid-stream when it is stopped.
    const slow = { ...broker, publish: async (m: readonly MessageEnvelope[]) => (await sleep(20), broker.publish(m)) } as unknown as PostgresBroker;
    const first = tailing(store, slow, { slotName, maxBatchSize: 20, publishConcurrency: 1 });
    first.start();
    await eventually(() => first.getStats().connects > 0, 10_000);
    const recorder = await consume(broker, channel);
    await produce(store, channel, 16, 200, 100);
    await eventually(() => first.getStats().published > 200, 20_000, 2);
    await first.stop();
    const published = first.getStats().published;
    expect(published).toBeLessThan(3_200); // it really stopped mid-stream
    await produce(store, channel, 16, 50, 100, 200); // written while no relay runs

    const second = tailing(store, broker, { slotName });
    second.start();
    await eventually(() => recorder.unique === 16 * 250, 30_000);
    expect(recorder.outOfOrderKeys(250)).toEqual([]);
    // Resumed where the first one confirmed: at most its last unconfirmed batch comes twice.
    expect(second.getStats().published).toBeLessThanOrEqual(16 * 250 - published + 100);
  });

  it('a relay process killed with SIGKILL mid-stream and restarted loses nothing', async () => {
    const channel = uniqueName('kill');
    const { store, broker } = await open('kill');
    const slotName = uniqueName('slot');
    const args = [db.url, 'kill_store', 'kill_broker', slotName, '20', '30'];
    const child = await startScript('tailing-relay-process.ts', args);
    closers.push(() => kill(child));
    const recorder = await consume(broker, channel);
    const total = 16 * 120;
    await produce(store, channel, 16, 120, 80);
    await eventually(async () => (await store.outbox.lag()).count < total - 160, 20_000, 5);
    await kill(child, 'SIGKILL');
    expect((await store.outbox.lag()).count).toBeGreaterThan(0);

    const again = await startScript('tailing-relay-process.ts', args);
    closers.push(() => kill(again));
    await eventually(async () => (await store.outbox.lag()).count === 0, 30_000);
    await eventually(() => recorder.unique === total, 20_000);
    expect(recorder.outOfOrderKeys(120)).toEqual([]);
    await kill(again, 'SIGTERM');
  });

  it('reports the WAL its slot retains, warns above the threshold, and confirms idle positions', async () => {
    const { store, broker } = await open('retain');
    const logger = capturingLogger();
    const relay = tailing(store, broker, { logger, retentionWarnBytes: 512 * 1024, statusIntervalMs: 100 });
    relay.start();
    await eventually(() => relay.getStats().connects > 0, 10_000);
    await relay.stop(); // the slot stays and pins WAL
    await store.transaction(async (tx) => {
      await tx.handle.query('CREATE TABLE public.filler (id serial primary key, pad text)');
      await tx.handle.query(`INSERT INTO public.filler (pad) SELECT repeat('x', 1000) FROM generate_series(1, 2000)`);
    });
    const pinned = await relay.checkRetention();
    expect(pinned.exists).toBe(true);
    expect(pinned.retainedWalBytes).toBeGreaterThan(1024 * 1024);
    expect(logger.warnings.some((w) => 'retainedWalBytes' in w.obj)).toBe(true);

    // Running again with an idle outbox, it confirms the keepalive positions: nothing unconfirmed stays.
    relay.start();
    await eventually(async () => (await relay.checkRetention()).unconfirmedWalBytes < 64 * 1024, 10_000);
    await relay.stop();
    expect(await relay.dropSlot()).toBe(true);
    expect((await relay.checkRetention()).exists).toBe(false);
  });

  it('prepare() reads the server settings: passes on a server with wal_level=logical', async () => {
    const { store, broker } = await open('prepare');
    const [row] = await store.driver.run((exec) => exec.query<{ wal_level: string }>('SHOW wal_level'));
    const relay = tailing(store, broker);
    // The machine's server is configured by .ci/services.sh (npm test runs it too).
    expect(row!.wal_level).toBe('logical');
    await expect(relay.prepare()).resolves.toBeUndefined();
  });

  it('createPostgresRelay picks the relay by mode', async () => {
    const { store, broker } = await open('mode');
    expect(createPostgresRelay({ mode: 'polling', store, broker })).toBeInstanceOf(
      (await import('./polling-relay.js')).PostgresPollingRelay,
    );
    expect(createPostgresRelay({ mode: 'tailing', store, broker })).toBeInstanceOf(PostgresTailingRelay);
    expect(() => createPostgresRelay({ mode: 'other', store, broker } as never)).toThrow(/polling' or 'tailing/);
  });
});
