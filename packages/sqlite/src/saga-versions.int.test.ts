import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCommand, defineSaga, OutboxRelay, SagaOrchestrator, SagaParticipant, silentLogger, type SagaDefinition } from '@concord/core';
import { eventually, uniqueName } from '@concord/core/testing';
import { openSqliteBroker, openSqliteStore, type SqliteDatabase } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'concord-saga-versions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const Data = z.object({ id: z.string(), trail: z.array(z.string()) });
type Data = z.infer<typeof Data>;
/** Backoff without waiting, so the reply consumer's attempts take no time. */
const instantClock = { now: () => Date.now(), sleep: async () => {} };

function world() {
  const channel = uniqueName('stock');
  const Reserve = defineCommand('stock.Reserve', { channel, schema: z.object({ id: z.string() }), replies: { Reserved: z.object({}) } });
  const reserve = { invoke: Reserve.with((d: Data) => ({ id: d.id })), onReply: { Reserved: (_tx: unknown, d: Data) => ({ ...d, trail: [...d.trail, 'reserve'] }) } };
  const mark = (name: string) => ({ kind: 'pivot' as const, local: (_tx: unknown, d: Data) => ({ ...d, trail: [...d.trail, name] }) });
  const v1 = defineSaga('Hold', Data, { version: 1 }).step('reserve', reserve).step('confirm', mark('confirm-v1')).build();
  const v2 = defineSaga('Hold', Data, { version: 2 }).step('reserve', reserve).step('confirm', mark('confirm-v2')).build();
  return { Reserve, v1, v2 };
}

async function open(name: string) {
  const broker = await openSqliteBroker({ filename: join(dir, `${name}-broker.db`), logger: silentLogger, pollIntervalMs: 10 });
  const shop = await openSqliteStore({ filename: join(dir, `${name}-shop.db`), logger: silentLogger });
  const stock = await openSqliteStore({ filename: join(dir, `${name}-stock.db`), logger: silentLogger });
  const relays = [shop, stock].map((store) => new OutboxRelay({ store, broker, logger: silentLogger, pollIntervalMs: 10 }));
  const orchestrator = (sagas: SagaDefinition<Data>[], previousVersions: SagaDefinition<Data>[] = []) =>
    new SagaOrchestrator({ name: `${name}-shop`, store: shop, broker, sagas, previousVersions, logger: silentLogger, clock: instantClock, schedulerIntervalMs: 20 });
  const close = async () => {
    for (const relay of relays) await relay.stop();
    await shop.close();
    await stock.close();
    await broker.close();
  };
  return { broker, shop, stock, relays, orchestrator, close };
}

const completed = (o: SagaOrchestrator<SqliteDatabase>, sagaId: string) =>
  eventually(async () => {
    const view = await o.get(sagaId);
    return view?.status === 'COMPLETED' ? view : undefined;
  });

describe('saga definition versions (SQLite)', () => {
  it('an old process never drives a saga a newer one started: the reply is parked, then finished by the new one', async () => {
    const w = world();
    const env = await open(uniqueName('overlap'));
    const participant = new SagaParticipant({ name: 'stock', store: env.stock, broker: env.broker, logger: silentLogger }).handle(w.Reserve, (_tx, _cmd, reply) =>
      reply.Reserved({}),
    );
    const oldProcess = env.orchestrator([w.v1]);
    try {
      await participant.start();
      await oldProcess.start();
      for (const relay of env.relays) relay.start();
      // The new build begins a saga (on v2) while only the old build consumes replies.
      const newProcess = env.orchestrator([w.v2], [w.v1]);
      const sagaId = await newProcess.begin('Hold', { id: 'h1', trail: [] });
      const [letter] = await eventually(async () => {
        const letters = await env.shop.deadLetters.list();
        return letters.length > 0 ? letters : undefined;
      });
      expect(letter!.error).toContain(`has unfinished sagas on definition versions it does not have: Hold@2 x1 [${sagaId}]`);
      const parked = await newProcess.get(sagaId);
      expect(parked).toMatchObject({ status: 'RUNNING', currentStep: 0, definitionVersion: '2', data: { trail: [] } });

      // The old build goes away; the new one starts and the parked reply is replayed to it.
      await oldProcess.stop();
      await newProcess.start();
      await env.shop.deadLetters.replay(letter!.id);
      const done = await completed(newProcess, sagaId);
      expect(done.data).toEqual({ id: 'h1', trail: ['reserve', 'confirm-v2'] });
      await newProcess.stop();
    } finally {
      await oldProcess.stop();
      await participant.stop();
      await env.close();
    }
  });

  it('a saga started before versions were recorded runs on the current definition; explicit versions are recorded', async () => {
    const w = world();
    const env = await open(uniqueName('legacy'));
    const participant = new SagaParticipant({ name: 'stock', store: env.stock, broker: env.broker, logger: silentLogger }).handle(w.Reserve, (_tx, _cmd, reply) =>
      reply.Reserved({}),
    );
    const first = env.orchestrator([w.v1]);
    await first.begin('Hold', { id: 'l1', trail: [] }, { sagaId: 'legacy-1' });
    expect((await first.get('legacy-1'))?.definitionVersion).toBe('1');
    // As a row written before the saga-versions migration would be.
    await env.shop.driver.run((exec) => exec.execute("UPDATE concord_saga_instances SET definition_version = NULL WHERE saga_id = 'legacy-1'"));
    const current = env.orchestrator([w.v2]);
    try {
      await participant.start();
      await current.start();
      for (const relay of env.relays) relay.start();
      const done = await completed(current, 'legacy-1');
      expect(done.definitionVersion).toBeNull();
      expect((done.data as Data).trail).toEqual(['reserve', 'confirm-v2']);
    } finally {
      await current.stop();
      await participant.stop();
      await env.close();
    }
  });

  it('start() refuses over a STUCK saga on a version it lacks, and lists it', async () => {
    const w = world();
    const env = await open(uniqueName('stuck'));
    try {
      await env.orchestrator([w.v1]).begin('Hold', { id: 's1', trail: [] }, { sagaId: 'stuck-1' });
      await env.shop.driver.run((exec) => exec.execute("UPDATE concord_saga_instances SET status = 'STUCK' WHERE saga_id = 'stuck-1'"));
      await expect(env.orchestrator([w.v2]).start()).rejects.toMatchObject({
        code: 'SAGA_VERSION_NOT_REGISTERED',
        unregistered: [{ sagaType: 'Hold', version: '1', count: 1, sagaIds: ['stuck-1'] }],
      });
      await env.shop.driver.run((exec) => exec.execute("UPDATE concord_saga_instances SET status = 'ABORTED' WHERE saga_id = 'stuck-1'"));
      const o = env.orchestrator([w.v2]);
      await o.start();
      await o.stop();
    } finally {
      await env.close();
    }
  });
});
