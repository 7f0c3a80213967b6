import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@concord/core';
import { type Subscription } from '@concord/core/spi';
import { eventually, serviceAvailable, services, testEnvelope, uniqueName } from '@concord/core/testing';
import { openPostgresBroker, openPostgresStore, PostgresPollingRelay } from './index.js';
import { DeliveryRecorder } from './testing/recorder.js';
import { createTestDatabase, type TestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.postgres);

describe.skipIf(!available)('postgres polling relay: the floor past sent rows', () => {
  let db: TestDatabase;
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    db = await createTestDatabase('floor');
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await db?.drop();
  });

  /** A store, a broker, a running relay that never reads from the start, and a recorded subscriber. */
  async function relayed(name: string, pollIntervalMs: number) {
    const store = await openPostgresStore({ connectionString: db.url, schema: `${name}_store`, poolSize: 4, logger: silentLogger });
    const broker = await openPostgresBroker({ connectionString: db.url, schema: `${name}_broker`, poolSize: 4, logger: silentLogger });
    // No full read during the test: only the floor's own rule can bring the late row.
    const relay = new PostgresPollingRelay({ store, broker, logger: silentLogger, pollIntervalMs, fullReadEveryMs: 600_000 });
    closers.push(() => store.close(), () => broker.close(), () => relay.stop());
    const channel = uniqueName('floor');
    const recorder = new DeliveryRecorder();
    const sub: Subscription = await broker.subscribe({ group: uniqueName('g'), channels: [channel], handler: recorder.handler });
    closers.push(() => sub.close());
    relay.start();
    return { store, channel, recorder };
  }

  it('publishes at once a row that commits after rows with higher positions were sent', async () => {
    const { store, channel, recorder } = await relayed('floor', 50);

    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const lowInserted = new Promise<void>((resolve) => (inserted = resolve));
    const late = testEnvelope(channel, 'late', 0);
    // Takes its position now, commits only after later rows went out.
    const slow = store.sqlTransaction(async (tx) => {
      await store.insertOutbox(tx.exec, [late]);
      await tx.exec.query('SELECT 1');
      inserted();
      await held;
    });
    await lowInserted;
    const early = Array.from({ length: 20 }, (_, i) => testEnvelope(channel, `early-${i}`, 0));
    for (const e of early) await store.sqlTransaction((tx) => tx.insertOutbox([e]));
    await eventually(() => recorder.unique === early.length, 10_000);
    // Rounds go by while the slow transaction is open: the floor must wait for it.
    await new Promise((r) => setTimeout(r, 500));
    release();
    await slow;
    await eventually(() => recorder.unique === early.length + 1, 3_000);
    expect(recorder.ids.has(late.id)).toBe(true);
  });

  it('waits for a transaction whose id is above the last one to end when a higher position commits', async () => {
    const { store, channel, recorder } = await relayed('floor2', 20);

    // E gets its transaction id first; T gets a higher one and takes the lower position; E then
    // takes the higher position and commits while T is open. A snapshot's xmax right after E's
    // commit can be T's id itself, which is no bound on T: only the next id to be given is.
    const gate = () => {
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      return { open, opened };
    };
    const eHasId = gate();
    const tInserted = gate();
    const tRelease = gate();
    const late = testEnvelope(channel, 'late', 0);
    const higher = testEnvelope(channel, 'higher', 0);
    const e = store.sqlTransaction(async (tx) => {
      await tx.exec.query('SELECT pg_current_xact_id()');
      eHasId.open();
      await tInserted.opened;
      await store.insertOutbox(tx.exec, [higher]);
      await tx.exec.query('SELECT 1');
    });
    const t = store.sqlTransaction(async (tx) => {
      await eHasId.opened;
      await store.insertOutbox(tx.exec, [late]);
      await tx.exec.query('SELECT 1');
      tInserted.open();
      await tRelease.opened;
    });
    await e;
    await eventually(() => recorder.ids.has(higher.id), 10_000);
    await new Promise((r) => setTimeout(r, 300)); // rounds go by with T open
    tRelease.open();
    await t;
    await eventually(() => recorder.ids.has(late.id), 3_000);
  });
});
