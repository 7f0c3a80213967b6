import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutboxRelay, RetentionSweeper, SagaParticipant, defineCommand, silentLogger, type Logger } from '@concord/core';
import { counterEvent, eventually, testEnvelope, uniqueName } from '@concord/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteBroker, openSqliteStore } from './index.js';

const DAY = 24 * 3_600_000;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'concord-retention-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Keeps error-level lines, so a test can see what was logged instead of thrown. */
function capturingLogger(errors: string[]): Logger {
  const logger: Logger = { ...silentLogger, error: (_obj, msg) => void errors.push(msg ?? ''), child: () => logger };
  return logger;
}

describe('relay parking (sqlite)', () => {
  it('parks an outbox row that cannot be decoded, with the reason, and the rows behind it flow', async () => {
    const dir = tempDir();
    const store = await openSqliteStore({ filename: join(dir, 'service.db'), logger: silentLogger });
    const broker = await openSqliteBroker({ filename: join(dir, 'broker.db'), pollIntervalMs: 20, leaseMs: 1_000, logger: silentLogger });
    cleanups.push(() => store.close(), () => broker.close());
    const Counted = counterEvent(uniqueName('parking'));
    await store.transaction(async (tx) => {
      for (let seq = 1; seq <= 3; seq++) await tx.outbox.send(Counted, { key: 'k', seq });
    });
    // A corrupt row (a bad manual edit, a bug in another writer): its payload is not JSON.
    const [, bad] = await store.outbox.fetchUnsent(10);
    await store.driver.run((exec) => exec.execute(`UPDATE ${store.driver.dialect.table('outbox')} SET payload = ? WHERE position = ?`, ['{not json', bad!.position]));

    const got: number[] = [];
    const sub = await broker.subscribe({
      group: uniqueName('g'),
      channels: [Counted.channel],
      handler: async (b) => void got.push(...b.messages.map((m) => (m.payload as { seq: number }).seq)),
    });
    const relay = new OutboxRelay({ store, broker, logger: silentLogger, pollIntervalMs: 20 });
    relay.start();
    cleanups.push(() => relay.stop(), () => sub.close());
    await eventually(() => got.length === 2);
    expect(got).toEqual([1, 3]);
    const [parked] = await store.parkedOutbox.list();
    expect(parked).toMatchObject({ messageId: bad!.envelope.id, payload: '{not json', resolution: null });
    expect(parked!.error).toMatch(/cannot decode outbox row .*JSON/);
    expect((await store.outbox.lag()).count).toBe(0);
    await store.parkedOutbox.discard(parked!.id);
    expect(await store.parkedOutbox.list()).toEqual([]);
  });
});

describe('retention sweeps (sqlite)', () => {
  it('a failing sweep is logged and retried, never an unhandled rejection', async () => {
    const dir = tempDir();
    const store = await openSqliteStore({ filename: join(dir, 'service.db'), logger: silentLogger });
    const broker = await openSqliteBroker({ filename: join(dir, 'broker.db'), pollIntervalMs: 20, leaseMs: 1_000, logger: silentLogger });
    cleanups.push(() => broker.close());
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    cleanups.push(() => void process.off('unhandledRejection', onUnhandled));
    const errors: string[] = [];
    const Ping = defineCommand('test.Ping', { channel: uniqueName('ping'), schema: counterEvent('x').schema, replies: { Pong: counterEvent('x').schema } });
    // The participant sweeps its barrier every 20 ms; its database goes away under it.
    const participant = new SagaParticipant({ name: uniqueName('p'), store, broker, retentionMs: 20, logger: capturingLogger(errors) }).handle(
      Ping,
      (_tx, cmd, reply) => reply.Pong(cmd),
    );
    await participant.start();
    cleanups.push(() => participant.stop());
    await store.close();
    await eventually(() => errors.some((e) => e.includes('retention sweep failed')), 5_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(unhandled).toEqual([]);

    // The sweeper on its own: one task failing does not stop the others or later rounds.
    const sweeper = new RetentionSweeper({
      intervalMs: 10,
      logger: capturingLogger(errors),
      tasks: [
        { name: 'broken', sweep: () => Promise.reject(new Error('disk on fire')) },
        { name: 'fine', sweep: async () => ({ rows: 1 }) },
      ],
    });
    const report = await sweeper.sweepOnce();
    expect(report.failed).toEqual({ broken: 'disk on fire' });
    expect(report.removed).toEqual({ fine: { rows: 1 } });
    sweeper.start();
    await new Promise((r) => setTimeout(r, 60));
    await sweeper.stop();
    expect(unhandled).toEqual([]);
  });

  it('the in-database broker deletes only messages every group committed past, and only past the retention', async () => {
    const dir = tempDir();
    // Offsets committed with each batch: the purges below read them right after the handlers ran.
    const broker = await openSqliteBroker({ filename: join(dir, 'broker.db'), pollIntervalMs: 20, leaseMs: 1_000, partitions: 1, offsetCommitIntervalMs: 0, logger: silentLogger });
    cleanups.push(() => broker.close());
    const channel = uniqueName('ret');
    const fast: number[] = [];
    const slow: number[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const subs = [
      await broker.subscribe({ group: 'fast', channels: [channel], maxBatchSize: 10, handler: async (b) => void fast.push(...b.messages.map((m) => (m.payload as { seq: number }).seq)) }),
      await broker.subscribe({
        group: 'slow',
        channels: [channel],
        maxBatchSize: 10,
        handler: async (b) => {
          if (slow.length >= 10) await held;
          slow.push(...b.messages.map((m) => (m.payload as { seq: number }).seq));
        },
      }),
    ];
    cleanups.push(async () => {
      release();
      for (const s of subs) await s.close();
    });
    await broker.publish(Array.from({ length: 50 }, (_, i) => testEnvelope(channel, 'k', i, { createdAt: Date.now() - 2 * DAY })));
    await eventually(() => fast.length === 50 && slow.length === 10);
    const count = async () =>
      Number((await broker.driver.run((exec) => exec.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${broker.t('broker_messages')} WHERE channel = ?`, [channel])))[0]!.n);
    expect(await broker.retentionTask(3 * DAY).sweep(Date.now())).toEqual({ messages: 0 });
    expect(await broker.purge(DAY)).toBe(10);
    expect(await count()).toBe(40);
    release();
    await eventually(() => slow.length === 50);
    expect(slow).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(await broker.retentionTask(null).sweep(Date.now())).toEqual({});
    // Once the slow group committed past them, they go too.
    await eventually(async () => {
      await broker.purge(DAY);
      return (await count()) === 0;
    });
  });
});
