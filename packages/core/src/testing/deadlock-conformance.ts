import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../logging.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import { defineCommand } from '../saga/command-definition.js';
import { defineSaga } from '../saga/saga-definition.js';
import { ok } from '../saga/saga-failure.js';
import { SagaOrchestrator } from '../saga/saga-orchestrator.js';
import { SagaParticipant, type CommandHandler } from '../saga/saga-participant.js';
import type { SqlStore } from '../sql/sql-store.js';
import { objectSchema } from './object-schema.js';
import type { SagaUnderTest } from './saga-conformance.js';
import { eventually, uniqueName } from './wait.js';

interface PairData {
  first: string;
  second: string;
}
const pairData = objectSchema<PairData>();
const resourcePayload = objectSchema<{ resource: string }>();
const empty = objectSchema<Record<string, never>>();

const count = async (store: SqlStore, table: string) =>
  store.driver.run(async (exec) =>
    Number(
      (await exec.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${store.driver.dialect.table(table)}`))[0]!
        .n,
    ),
  );

/**
 * Two sagas lock two resources, one in each service's database, in opposite orders, both
 * waiting: the deadlock is detected across the services and broken by failing the youngest
 * saga, which compensates; the other completes; nothing stays locked. Same factory as the saga
 * suite (its two stores are the two services).
 */
export function describeDeadlockConformance(name: string, factory: () => Promise<SagaUnderTest>): void {
  describe(`Deadlock detection: ${name}`, () => {
    let sut: SagaUnderTest;
    const stops: Array<() => Promise<void>> = [];
    // The second-phase participants start only once both first locks are held.
    const phase = (service: string, n: number) => uniqueName(`${service}${n}`);
    const channels = { a1: phase('a', 1), a2: phase('a', 2), b1: phase('b', 1), b2: phase('b', 2) };
    const lockCommand = (key: keyof typeof channels) =>
      defineCommand(`dl.Lock.${key}`, {
        channel: channels[key],
        schema: resourcePayload,
        replies: { Locked: empty },
      });
    type LockCommand = ReturnType<typeof lockCommand>;
    const Lock = {
      a1: lockCommand('a1'),
      a2: lockCommand('a2'),
      b1: lockCommand('b1'),
      b2: lockCommand('b2'),
    };
    const aThenB = defineSaga('dl.AThenB', pairData)
      .step('first', { invoke: Lock.a1.with((d) => ({ resource: d.first })), onReply: { Locked: ok() } })
      .step('second', { invoke: Lock.b2.with((d) => ({ resource: d.second })), onReply: { Locked: ok() } })
      .build();
    const bThenA = defineSaga('dl.BThenA', pairData)
      .step('first', { invoke: Lock.b1.with((d) => ({ resource: d.first })), onReply: { Locked: ok() } })
      .step('second', { invoke: Lock.a2.with((d) => ({ resource: d.second })), onReply: { Locked: ok() } })
      .build();
    let orchestrator: SagaOrchestrator;
    let ordersDb: SqlStore;
    let customersDb: SqlStore;

    beforeAll(async () => {
      sut = await factory();
      ordersDb = sut.orchestratorStore;
      customersDb = sut.participantStore;
      orchestrator = new SagaOrchestrator({
        name: uniqueName('dl'),
        store: ordersDb,
        broker: sut.broker,
        sagas: [aThenB, bThenA],
        schedulerIntervalMs: 20,
        logger: silentLogger,
      });
      const relays = [ordersDb, customersDb].map(
        (store) => new OutboxRelay({ store, broker: sut.broker, logger: silentLogger, pollIntervalMs: 50 }),
      );
      await orchestrator.start();
      for (const r of relays) r.start();
      stops.push(() => orchestrator.stop(), ...relays.map((r) => () => r.stop()));
    });
    afterAll(async () => {
      for (const stop of stops.reverse()) await stop().catch(() => {});
      await sut?.cleanup();
    });

    const settled = (sagaId: string) =>
      eventually(async () => {
        const s = await orchestrator.get(sagaId);
        return s && ['COMPLETED', 'COMPENSATED', 'STUCK'].includes(s.status) ? s : undefined;
      }, 20_000);

    it('detects a deadlock across two services, fails the youngest saga, and the other completes', async () => {
      const detection = { intervalMs: 100 };
      const lockHandler =
        (p: () => SagaParticipant): CommandHandler<unknown, LockCommand> =>
        async (tx, cmd, reply, message) => {
          await p().locks.acquire(tx, message, cmd.resource, 'wait');
          return reply.Locked({});
        };
      const a1: SagaParticipant = new SagaParticipant({
        name: `${channels.a1}-svc`,
        store: ordersDb,
        broker: sut.broker,
        logger: silentLogger,
      }).handle(
        Lock.a1,
        lockHandler(() => a1),
      );
      const b1: SagaParticipant = new SagaParticipant({
        name: `${channels.b1}-svc`,
        store: customersDb,
        broker: sut.broker,
        logger: silentLogger,
      }).handle(
        Lock.b1,
        lockHandler(() => b1),
      );
      await a1.start();
      await b1.start();
      stops.push(
        () => a1.stop(),
        () => b1.stop(),
      );
      const r1 = uniqueName('r1');
      const r2 = uniqueName('r2');
      const older = await orchestrator.begin('dl.AThenB', { first: r1, second: r2 });
      await eventually(async () => (await orchestrator.get(older))?.currentStep === 1);
      await new Promise((r) => setTimeout(r, 5)); // a later start: this one is the youngest
      const younger = await orchestrator.begin('dl.BThenA', { first: r2, second: r1 });
      await eventually(async () => (await orchestrator.get(younger))?.currentStep === 1);

      const a2: SagaParticipant = new SagaParticipant({
        name: `${channels.a2}-svc`,
        store: ordersDb,
        broker: sut.broker,
        logger: silentLogger,
        deadlockDetection: { service: 'a', peers: [b1.lockGraph('b')], ...detection },
      }).handle(
        Lock.a2,
        lockHandler(() => a2),
      );
      const b2: SagaParticipant = new SagaParticipant({
        name: `${channels.b2}-svc`,
        store: customersDb,
        broker: sut.broker,
        logger: silentLogger,
        deadlockDetection: { service: 'b', peers: [a1.lockGraph('a')], ...detection },
      }).handle(
        Lock.b2,
        lockHandler(() => b2),
      );
      await a2.start();
      await b2.start();
      stops.push(
        () => a2.stop(),
        () => b2.stop(),
      );

      const [o, y] = [await settled(older), await settled(younger)];
      expect(o.status).toBe('COMPLETED');
      expect(y).toMatchObject({ status: 'COMPENSATED', failureReason: 'DEADLOCK' });
      const deadlock = y.history.find((h) => h.event === 'DEADLOCK')!;
      expect(deadlock.step).toBe('second');
      expect(deadlock.detail.detectedAfterMs).toEqual(expect.any(Number));
      const cycle = deadlock.detail.cycle as Array<{ saga: string; service: string; heldBy: string }>;
      expect(cycle.map((e) => `${e.saga}>${e.heldBy}@${e.service}`).sort()).toEqual(
        [`${older}>${younger}@b`, `${younger}>${older}@a`].sort(),
      );
      await eventually(async () => {
        const left = await Promise.all(
          [ordersDb, customersDb].flatMap((s) => [count(s, 'semantic_locks'), count(s, 'lock_waits')]),
        );
        return left.every((n) => n === 0);
      });
      console.info(
        `[concord] deadlock broken ${String(deadlock.detail.detectedAfterMs)} ms after the cycle closed (detector interval ${detection.intervalMs} ms)`,
      );
    });
  });
}
