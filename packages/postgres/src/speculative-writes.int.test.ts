import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  defineCommand,
  defineSaga,
  OutboxRelay,
  SagaOrchestrator,
  SagaParticipant,
  silentLogger,
  type MessageEnvelope,
  type SqlStore,
} from '@concord/core';
import { SqlStoreTransaction } from '@concord/core/spi';
import { eventually, sagaCommandEnvelope, serviceAvailable, services, uniqueName } from '@concord/core/testing';
import { z } from 'zod';
import { openPostgresBroker, openPostgresStore, type PostgresBroker, type PostgresStore } from './index.js';
import { createTestDatabase, type TestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.postgres);

/**
 * The participant claims a first attempt's barrier row without waiting for it (decision 044):
 * a claim that finds the row taken must void what the handler did, and the command then gets
 * the recorded reply, as with a claim made first.
 */
describe.skipIf(!available)('postgres participant: barrier claimed without a round trip of its own', () => {
  let participantDb: TestDatabase;
  let brokerDb: TestDatabase;
  let store: PostgresStore;
  let broker: PostgresBroker;
  let participant: SagaParticipant;
  let relay: OutboxRelay;
  const channel = uniqueName('ledger');
  const replyChannel = uniqueName('ledger-replies');
  const Book = defineCommand('test.Book', { channel, schema: z.object({ entry: z.number() }), replies: { Booked: z.object({ run: z.number() }) } });
  const Count = defineCommand('test.Count', { channel, schema: z.object({ key: z.string() }), replies: { Counted: z.object({ n: z.number() }) } });
  let runs = 0;

  beforeAll(async () => {
    [participantDb, brokerDb] = await Promise.all([createTestDatabase('spec_barrier'), createTestDatabase('spec_barrier_broker')]);
    store = await openPostgresStore({ connectionString: participantDb.url, logger: silentLogger });
    broker = await openPostgresBroker({ connectionString: brokerDb.url, pollIntervalMs: 20, logger: silentLogger });
    await store.driver.run((exec) => exec.execute('CREATE TABLE public.ledger (entry INT PRIMARY KEY)'));
    await store.driver.run((exec) => exec.execute('CREATE TABLE public.counters (k TEXT PRIMARY KEY, n INT NOT NULL)'));
    // A plain INSERT: run twice for one entry it fails, as a handler with no idempotency of its own would.
    participant = new SagaParticipant({ name: uniqueName('ledger'), store: store as unknown as SqlStore, broker, logger: silentLogger }).handle(
      Book,
      async (tx, cmd, reply) => {
        await tx.sql.execute('INSERT INTO public.ledger (entry) VALUES (?)', [cmd.entry]);
        return reply.Booked({ run: ++runs });
      },
    ).handle(Count, async (tx, cmd, reply) => {
      // Succeeds every time it runs: only the barrier keeps a repeat from counting twice.
      const rows = await tx.sql.query<{ n: number }>(
        'INSERT INTO public.counters (k, n) VALUES (?, 1) ON CONFLICT (k) DO UPDATE SET n = counters.n + 1 RETURNING n',
        [cmd.key],
      );
      return reply.Counted({ n: rows[0]!.n });
    });
    await participant.start();
    relay = new OutboxRelay({ store: store as unknown as SqlStore, broker, logger: silentLogger, pollIntervalMs: 20 });
    relay.start();
  });
  afterAll(async () => {
    await relay?.stop();
    await participant?.stop();
    await broker?.close();
    await store?.close();
    await participantDb?.drop();
    await brokerDb?.drop();
  });

  const command = (sagaId: string, entry: number, type: string = Book.type, payload: unknown = { entry }): MessageEnvelope =>
    sagaCommandEnvelope({ sagaId, step: 'book', action: 'invoke', type, channel, replyChannel, payload });
  const entries = async () =>
    (await store.driver.run((exec) => exec.query<{ entry: number }>('SELECT entry FROM public.ledger ORDER BY entry'))).map((r) => r.entry);

  it('a repeat whose handler succeeds again is voided by the claim, and answered with the first reply', async () => {
    const replies: Array<{ reply: string; body: { n: number } }> = [];
    const sub = await broker.subscribe({
      group: uniqueName('watch'),
      channels: [replyChannel],
      handler: async (b) => void replies.push(...b.messages.map((m) => m.payload as { reply: string; body: { n: number } })),
    });
    const abandoned = vi.spyOn(SqlStoreTransaction.prototype, 'abandonSpeculation');
    try {
      const sagaId = uniqueName('saga');
      const key = uniqueName('k');
      await broker.publish([command(sagaId, 0, Count.type, { key })]);
      await eventually(() => replies.some((r) => r.reply === 'Counted'));
      await broker.publish([command(sagaId, 0, Count.type, { key })]);
      await eventually(() => replies.filter((r) => r.reply === 'Counted').length === 2);
      expect(abandoned).toHaveBeenCalledTimes(1);
      expect(replies.filter((r) => r.reply === 'Counted').map((r) => r.body.n)).toEqual([1, 1]);
      const [row] = await store.driver.run((exec) => exec.query<{ n: number }>('SELECT n FROM public.counters WHERE k = ?', [key]));
      expect(row!.n).toBe(1);
    } finally {
      abandoned.mockRestore();
      await sub.close();
    }
  });

  it('a repeat sent as a new message is caught by the claim: the effect stays single, both copies get the first reply', async () => {
    const replies: Array<{ reply: string; body: { run: number } }> = [];
    const sub = await broker.subscribe({
      group: uniqueName('watch'),
      channels: [replyChannel],
      handler: async (b) =>
        void replies.push(...b.messages.map((m) => m.payload as { reply: string; body: { run: number } }).filter((r) => r.reply === 'Booked')),
    });
    const abandoned = vi.spyOn(SqlStoreTransaction.prototype, 'abandonSpeculation');
    try {
      const sagaId = uniqueName('saga');
      await broker.publish([command(sagaId, 1)]);
      await eventually(() => replies.length === 1);
      // Speculation held: the first copy was claimed without `enter`, and nothing was voided.
      expect(abandoned).not.toHaveBeenCalled();

      // A resend (new message id, same saga, step and attempt): its speculative run fails on
      // the ledger's key, the claim says the row was taken, and the run is voided and redone.
      await broker.publish([command(sagaId, 1)]);
      await eventually(() => replies.length === 2);
      expect(abandoned).toHaveBeenCalledTimes(1);
      expect(replies.map((r) => [r.reply, r.body.run])).toEqual([
        ['Booked', 1],
        ['Booked', 1],
      ]);
      expect(await entries()).toEqual([1]);
      expect(runs).toBe(1); // the voided run failed at its INSERT, before answering
    } finally {
      abandoned.mockRestore();
      await sub.close();
    }
  });
});

/**
 * A saga started with a caller's id is guessed new: not looked for first, its row inserted
 * without waiting. A wrong guess (the id was used) must void the run and end as a repeated
 * `begin` always did: nothing more happens.
 */
describe.skipIf(!available)('postgres orchestrator: a saga start guessed new', () => {
  let db: TestDatabase;
  let store: PostgresStore;
  let broker: PostgresBroker;
  let brokerDb: TestDatabase;
  let orchestrator: SagaOrchestrator;
  let localRuns = 0;
  const Tally = defineSaga('test.Tally', z.object({ key: z.string() })).step('tally', {
    local: async (tx, d) => {
      localRuns++;
      await tx.sql.execute('INSERT INTO public.tallies (k, n) VALUES (?, 1) ON CONFLICT (k) DO UPDATE SET n = tallies.n + 1', [d.key]);
    },
  }).build();

  beforeAll(async () => {
    [db, brokerDb] = await Promise.all([createTestDatabase('spec_start'), createTestDatabase('spec_start_broker')]);
    store = await openPostgresStore({ connectionString: db.url, logger: silentLogger });
    broker = await openPostgresBroker({ connectionString: brokerDb.url, logger: silentLogger });
    await store.driver.run((exec) => exec.execute('CREATE TABLE public.tallies (k TEXT PRIMARY KEY, n INT NOT NULL)'));
    orchestrator = new SagaOrchestrator({ name: uniqueName('orch'), store: store as unknown as SqlStore, broker, sagas: [Tally], logger: silentLogger });
  });
  afterAll(async () => {
    await broker?.close();
    await store?.close();
    await db?.drop();
    await brokerDb?.drop();
  });

  it('a repeated begin with the same id is voided by the failed insert and changes nothing', async () => {
    const abandonedGuesses = vi.spyOn(SqlStoreTransaction.prototype, 'guessAbsent');
    try {
      const key = uniqueName('k');
      const sagaId = uniqueName('tally');
      await orchestrator.begin('test.Tally', { key }, { sagaId });
      expect(abandonedGuesses.mock.results.map((r) => r.value)).toEqual([true]);
      expect((await orchestrator.get(sagaId))?.status).toBe('COMPLETED');

      await orchestrator.begin('test.Tally', { key }, { sagaId });
      // Guessed new, failed at the insert, then looked first.
      expect(abandonedGuesses.mock.results.map((r) => r.value)).toEqual([true, true, false]);
      expect(localRuns).toBe(2);
      const [row] = await store.driver.run((exec) => exec.query<{ n: number }>('SELECT n FROM public.tallies WHERE k = ?', [key]));
      expect(row!.n).toBe(1);
      expect((await orchestrator.get(sagaId))!.history.filter((h) => h.event === 'STARTED')).toHaveLength(1);
    } finally {
      abandonedGuesses.mockRestore();
    }
  });
});
