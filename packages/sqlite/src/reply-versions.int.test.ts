import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCommand, defineSaga, OutboxRelay, SagaOrchestrator, SagaParticipant, silentLogger, upcastFrom, versionedReply } from '@concord/core';
import { eventually, uniqueName } from '@concord/core/testing';
import { openSqliteBroker, openSqliteStore, type SqliteDatabase } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'concord-reply-versions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Three builds of one contracts module: the Held reply gained `until` in v2 and `zone` in v3. */
const channel = uniqueName('stock');
const command = { channel, schema: z.object({ orderId: z.string() }), partitionKey: (p: { orderId: string }) => p.orderId };
const HoldV1 = defineCommand('stock.Hold', { ...command, replies: { Held: z.object({ holdId: z.string() }) } });
const heldV2 = versionedReply(z.object({ holdId: z.string(), until: z.number() }), upcastFrom<{ holdId: string }>().then((v1) => ({ ...v1, until: 0 })));
const HoldV2 = defineCommand('stock.Hold', { ...command, replies: { Held: heldV2 } });
const HoldV3 = defineCommand('stock.Hold', {
  ...command,
  replies: {
    Held: versionedReply(
      z.object({ holdId: z.string(), until: z.number(), zone: z.string() }),
      upcastFrom<{ holdId: string }>()
        .then((v1) => ({ ...v1, until: 0 }))
        .then((v2) => ({ ...v2, zone: 'eu' })),
    ),
  },
});

const Data = z.object({ orderId: z.string(), holdId: z.string().optional(), until: z.number().optional() });
type Data = z.infer<typeof Data>;
const saga = defineSaga('HoldForOrder', Data)
  .step('hold', { kind: 'pivot', invoke: HoldV2.with((d) => ({ orderId: d.orderId })), onReply: { Held: (_tx, d, held) => ({ ...d, ...held }) } })
  .build();

/** Backoff without waiting, so the reply consumer's ten attempts take no time. */
const instantClock = { now: () => Date.now(), sleep: async () => {} };

type Store = Awaited<ReturnType<typeof openSqliteStore>>;
type Db = SqliteDatabase;

async function run(
  participantBuild: (p: SagaParticipant<Db>) => SagaParticipant<Db>,
  check: (o: SagaOrchestrator<Db>, sagaId: string, shop: Store) => Promise<void>,
) {
  const name = uniqueName('run');
  const broker = await openSqliteBroker({ filename: join(dir, `${name}-broker.db`), logger: silentLogger, pollIntervalMs: 10 });
  const shop = await openSqliteStore({ filename: join(dir, `${name}-shop.db`), logger: silentLogger });
  const stock = await openSqliteStore({ filename: join(dir, `${name}-stock.db`), logger: silentLogger });
  const orchestrator = new SagaOrchestrator({ name: 'shop', store: shop, broker, sagas: [saga], logger: silentLogger, clock: instantClock });
  const participant = participantBuild(new SagaParticipant({ name: 'stock', store: stock, broker, logger: silentLogger }));
  const relays = [shop, stock].map((store) => new OutboxRelay({ store, broker, logger: silentLogger, pollIntervalMs: 10 }));
  try {
    await participant.start();
    await orchestrator.start();
    for (const relay of relays) relay.start();
    await check(orchestrator, await orchestrator.begin('HoldForOrder', { orderId: 'o1' }), shop);
  } finally {
    for (const relay of relays) await relay.stop();
    await orchestrator.stop();
    await participant.stop();
    await shop.close();
    await stock.close();
    await broker.close();
  }
}

describe('reply versions across a rolling deploy (SQLite)', () => {
  it("an orchestrator on v2 upcasts the reply of a participant still on v1", async () => {
    await run(
      (p) => p.handle(HoldV1, (_tx, _cmd, reply) => reply.Held({ holdId: 'h1' })),
      async (orchestrator, sagaId) => {
        const done = await eventually(async () => {
          const view = await orchestrator.get(sagaId);
          return view?.status === 'COMPLETED' ? view : undefined;
        });
        expect(done.data).toEqual({ orderId: 'o1', holdId: 'h1', until: 0 });
      },
    );
  });

  it('an orchestrator on v2 parks the reply of a participant already on v3 with the reason, and the saga waits', async () => {
    await run(
      (p) => p.handle(HoldV3, (_tx, _cmd, reply) => reply.Held({ holdId: 'h3', until: 9, zone: 'us' })),
      async (orchestrator, sagaId, shop) => {
        const [letter] = await eventually(async () => {
          const letters = await shop.deadLetters.list();
          return letters.length > 0 ? letters : undefined;
        });
        expect(letter!.error).toBe('schemaVersion 3 is newer than this consumer knows (2) for stock.Hold reply Held');
        expect(letter!.message.payload).toMatchObject({ sagaId, reply: 'Held', bodyVersion: 3, body: { zone: 'us' } });
        expect((await orchestrator.get(sagaId))?.status).toBe('RUNNING');
      },
    );
  });
});
