import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../logging.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import type { Broker } from '../ports/broker.js';
import { defineCommand } from '../saga/command-definition.js';
import { defineSaga } from '../saga/saga-definition.js';
import { fail, ok } from '../saga/saga-failure.js';
import { SagaOrchestrator } from '../saga/saga-orchestrator.js';
import { SagaParticipant } from '../saga/saga-participant.js';
import { NULL_COMPENSATION_REPLY } from '../saga/saga-messages.js';
import type { SqlStore } from '../sql/sql-store.js';
import { newId } from '../ids.js';
import { objectSchema } from './object-schema.js';
import { eventually, uniqueName } from './wait.js';
import { sagaCommandEnvelope } from './test-messages.js';

export interface SagaUnderTest {
  /** The orchestrator's service database. */
  readonly orchestratorStore: SqlStore;
  /** The participant's service database (another database than the orchestrator's). */
  readonly participantStore: SqlStore;
  readonly broker: Broker;
  cleanup(): Promise<void>;
}

interface TransferData {
  account: string;
  amount: number;
  log: string[];
}
const transferData = objectSchema<TransferData>((v) =>
  typeof v.account !== 'string' ? 'account: expected a string' : typeof v.amount !== 'number' ? 'amount: expected a number' : undefined,
);
const amountPayload = objectSchema<{ account: string; amount: number }>((v) =>
  typeof v.amount !== 'number' ? 'amount: expected a number' : undefined,
);
const empty = objectSchema<Record<string, never>>(() => undefined);
const reason = objectSchema<{ why: string }>((v) => (typeof v.why !== 'string' ? 'why: expected a string' : undefined));

const fastBackoff = { initialMs: 5, maxMs: 20, multiplier: 2, jitter: 0.2 };

/**
 * Orchestration, participants, barrier, retries, STUCK and manual resolution: the same
 * behaviour on every store. Run by each store adapter against its real server.
 */
export function describeSagaConformance(name: string, factory: () => Promise<SagaUnderTest>): void {
  describe(`Saga conformance: ${name}`, () => {
    let sut: SagaUnderTest;
    const stops: Array<() => Promise<void>> = [];
    const channel = uniqueName('bank');
    const Debit = defineCommand('test.Debit', { channel, schema: amountPayload, replies: { Debited: empty, Insufficient: reason } });
    const Refund = defineCommand('test.Refund', { channel, schema: amountPayload, replies: { Refunded: empty } });
    const Reserve = defineCommand('test.Reserve', { channel, schema: amountPayload, replies: { Reserved: empty, Rejected: reason } });
    const Never = defineCommand('test.NeverAnswered', { channel: uniqueName('void'), schema: amountPayload, replies: { Done: empty } });
    const effects: string[] = [];
    let localCompensationFails = 0;
    let confirmFails = 0;

    const transfer = defineSaga('test.Transfer', transferData, { failures: ['INSUFFICIENT_FUNDS', 'REJECTED'] })
      .step('note', {
        local: (_tx, d) => ({ ...d, log: [...d.log, 'noted'] }),
        compensate: {
          local: () => {
            if (localCompensationFails > 0) {
              localCompensationFails--;
              throw new Error('compensation store unavailable');
            }
            effects.push('note compensated');
          },
        },
      })
      .step('debit', {
        invoke: Debit.with((d) => ({ account: d.account, amount: d.amount })),
        onReply: { Debited: ok(), Insufficient: fail('INSUFFICIENT_FUNDS') },
        compensate: { invoke: Refund.with((d) => ({ account: d.account, amount: d.amount })) },
      })
      .step('reserve', {
        kind: 'pivot',
        invoke: Reserve.with((d) => ({ account: d.account, amount: d.amount })),
        onReply: { Rejected: fail('REJECTED'), Reserved: (_tx, d) => ({ ...d, log: [...d.log, 'reserved'] }) },
      })
      .step('confirm', {
        kind: 'retriable',
        local: (_tx, d) => {
          if (confirmFails > 0) {
            confirmFails--;
            throw new Error('confirm failed');
          }
          return { ...d, log: [...d.log, 'confirmed'] };
        },
      })
      .build();

    const waitsFor = <N extends string>(sagaName: N, timeoutMs: number) =>
      defineSaga(sagaName, transferData)
        .step('before', { local: () => undefined, compensate: { local: () => void effects.push('before compensated') } })
        .step('silent', { invoke: Never.with((d) => ({ account: d.account, amount: d.amount })), onReply: { Done: ok() }, timeoutMs })
        .build();
    const waitsForever = waitsFor('test.WaitsForever', 100);
    // Long enough that a loaded machine never times it out before the test acts on it.
    const waitsLong = waitsFor('test.WaitsLong', 600_000);

    let orchestrator: SagaOrchestrator;
    let participant: SagaParticipant;

    beforeAll(async () => {
      sut = await factory();
      participant = new SagaParticipant({ name: uniqueName('bank'), store: sut.participantStore, broker: sut.broker, logger: silentLogger })
        .handle(Debit, (tx, cmd, reply) => {
          if (cmd.amount > 100) return reply.Insufficient({ why: 'over 100' });
          tx.afterCommit(() => effects.push(`debit ${cmd.account} ${cmd.amount}`));
          return reply.Debited({});
        })
        .handle(Refund, (tx, cmd, reply) => {
          tx.afterCommit(() => effects.push(`refund ${cmd.account} ${cmd.amount}`));
          return reply.Refunded({});
        })
        .handle(Reserve, (_tx, cmd, reply) => (cmd.amount === 13 ? reply.Rejected({ why: 'unlucky' }) : reply.Reserved({})));
      orchestrator = new SagaOrchestrator({
        name: uniqueName('orch'),
        store: sut.orchestratorStore,
        broker: sut.broker,
        sagas: [transfer, waitsForever, waitsLong],
        maxAttempts: 3,
        backoff: fastBackoff,
        schedulerIntervalMs: 20,
        logger: silentLogger,
      });
      const relays = [sut.orchestratorStore, sut.participantStore].map(
        (store) => new OutboxRelay({ store, broker: sut.broker, logger: silentLogger, pollIntervalMs: 50 }),
      );
      await participant.start();
      await orchestrator.start();
      for (const r of relays) r.start();
      stops.push(() => participant.stop(), () => orchestrator.stop(), ...relays.map((r) => () => r.stop()));
    });
    afterAll(async () => {
      for (const stop of stops.reverse()) await stop().catch(() => {});
      await sut?.cleanup();
    });

    const finished = (sagaId: string, status: string) =>
      eventually(async () => {
        const s = await orchestrator.get(sagaId);
        return s?.status === status ? s : undefined;
      }, 20_000);

    it('runs every step forward to COMPLETED, keeping data and history', async () => {
      const id = await orchestrator.begin('test.Transfer', { account: 'a1', amount: 10, log: [] });
      const saga = await finished(id, 'COMPLETED');
      expect(saga.data).toEqual({ account: 'a1', amount: 10, log: ['noted', 'reserved', 'confirmed'] });
      expect(effects).toContain('debit a1 10');
      expect(saga.history.map((h) => h.event)).toEqual([
        'STARTED', 'STEP_DONE', 'COMMAND_SENT', 'REPLY', 'STEP_DONE', 'COMMAND_SENT', 'REPLY', 'STEP_DONE', 'STEP_DONE', 'COMPLETED',
      ]);
      expect(saga.version).toBeGreaterThan(1);
    });

    it('compensates the steps before a failed pivot, in reverse order', async () => {
      const id = await orchestrator.begin('test.Transfer', { account: 'a2', amount: 13, log: [] });
      const saga = await finished(id, 'COMPENSATED');
      expect(saga.failureReason).toBe('REJECTED');
      const mine = effects.filter((e) => e.includes('a2') || e === 'note compensated');
      expect(mine.slice(-3)).toEqual(['debit a2 13', 'refund a2 13', 'note compensated']);
    });

    it('does not compensate a step whose participant replied with a failure', async () => {
      const id = await orchestrator.begin('test.Transfer', { account: 'a3', amount: 500, log: [] });
      const saga = await finished(id, 'COMPENSATED');
      expect(saga.failureReason).toBe('INSUFFICIENT_FUNDS');
      expect(effects.filter((e) => e.includes('a3'))).toEqual([]);
    });

    it('is idempotent for a caller-assigned saga id', async () => {
      const sagaId = uniqueName('saga');
      await orchestrator.begin('test.Transfer', { account: 'a4', amount: 1, log: [] }, { sagaId });
      await orchestrator.begin('test.Transfer', { account: 'a4', amount: 1, log: [] }, { sagaId });
      await finished(sagaId, 'COMPLETED');
      expect(effects.filter((e) => e === 'debit a4 1')).toHaveLength(1);
    });

    it('applies a command delivered three times once, and answers each copy with the recorded reply', async () => {
      const sagaId = uniqueName('dup');
      const base = sagaCommandEnvelope({ sagaId, step: 'debit', action: 'invoke', attempt: 1, type: Debit.type, channel: Debit.channel, payload: { account: 'dup', amount: 7 } });
      // the same message twice (broker redelivery), then a resend with a new id (a timeout retry)
      await sut.broker.publish([base, base, { ...base, id: newId() }]);
      await eventually(() => effects.includes('debit dup 7'));
      await new Promise((r) => setTimeout(r, 300));
      expect(effects.filter((e) => e === 'debit dup 7')).toHaveLength(1);
    });

    it('turns a compensation that arrives before its action into a no-op that blocks the action', async () => {
      const sagaId = uniqueName('hanging');
      const replyChannel = uniqueName('replies');
      const envelope = (type: string, action: 'invoke' | 'compensate') =>
        sagaCommandEnvelope({ sagaId, step: 'debit', action, type, channel, replyChannel, payload: { account: 'hang', amount: 5 } });
      const replies: Array<{ reply: string; action: string }> = [];
      const sub = await sut.broker.subscribe({
        group: uniqueName('watch'),
        channels: [replyChannel],
        handler: async (b) => void replies.push(...b.messages.map((m) => m.payload as { reply: string; action: string })),
      });
      stops.push(() => sub.close());
      await sut.broker.publish([envelope(Refund.type, 'compensate')]);
      await eventually(() => replies.length === 1);
      await sut.broker.publish([envelope(Debit.type, 'invoke')]);
      await new Promise((r) => setTimeout(r, 400));
      expect(replies).toEqual([expect.objectContaining({ action: 'compensate', reply: NULL_COMPENSATION_REPLY })]);
      expect(effects.filter((e) => e.includes('hang'))).toEqual([]);
    });

    const DAY = 24 * 3_600_000;
    const barrierRows = async (sagaId: string) => {
      const d = sut.participantStore.driver.dialect;
      const rows = await sut.participantStore.driver.run((exec) =>
        exec.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${d.table('saga_barrier')} WHERE saga_id = ?`, [sagaId]),
      );
      return Number(rows[0]!.n);
    };

    it('keeps the barrier of an unfinished saga past the retention: a compensation months later still compensates', async () => {
      const sagaId = uniqueName('late');
      const replyChannel = uniqueName('replies');
      const envelope = (type: string, action: 'invoke' | 'compensate') =>
        sagaCommandEnvelope({ sagaId, step: 'debit', action, type, channel, replyChannel, payload: { account: 'late', amount: 9 } });
      const replies: Array<{ reply: string; action: string }> = [];
      const sub = await sut.broker.subscribe({
        group: uniqueName('watch'),
        channels: [replyChannel],
        handler: async (b) => void replies.push(...b.messages.map((m) => m.payload as { reply: string; action: string })),
      });
      stops.push(() => sub.close());
      await sut.broker.publish([envelope(Debit.type, 'invoke')]);
      await eventually(() => replies.length === 1);
      // The saga then sits STUCK for 90 days; the sweeps of all those days run.
      await participant.retentionTask().sweep(Date.now() + 90 * DAY);
      expect(await barrierRows(sagaId)).toBe(1);
      await sut.broker.publish([envelope(Refund.type, 'compensate')]);
      await eventually(() => replies.length === 2);
      expect(replies[1]).toMatchObject({ action: 'compensate', reply: 'Refunded' });
      expect(effects).toContain('refund late 9');
    });

    it('tells participants when a saga finished, and their barrier rows go after the retention', async () => {
      const id = await orchestrator.begin('test.Transfer', { account: 'a12', amount: 3, log: [] });
      await finished(id, 'COMPLETED');
      const d = sut.participantStore.driver.dialect;
      await eventually(async () => {
        const rows = await sut.participantStore.driver.run((exec) =>
          exec.query<{ status: string }>(`SELECT status FROM ${d.table('saga_finished')} WHERE saga_id = ?`, [id]),
        );
        return rows[0]?.status === 'COMPLETED';
      });
      expect(await barrierRows(id)).toBe(2);
      await participant.retentionTask().sweep(Date.now() + 1_000);
      expect(await barrierRows(id)).toBe(2);
      await participant.retentionTask().sweep(Date.now() + 8 * DAY);
      expect(await barrierRows(id)).toBe(0);
    });

    it('purges finished sagas past their retention, never a STUCK one', async () => {
      localCompensationFails = 1_000;
      const stuck = await orchestrator.begin('test.Transfer', { account: 'a13', amount: 500, log: [] });
      await finished(stuck, 'STUCK');
      localCompensationFails = 0;
      const done = await orchestrator.begin('test.Transfer', { account: 'a14', amount: 1, log: [] });
      await finished(done, 'COMPLETED');
      const task = orchestrator.retentionTask({ finishedSagasMs: 30 * DAY });
      await task.sweep(Date.now() + DAY);
      expect(await orchestrator.get(done)).toBeDefined();
      const removed = await task.sweep(Date.now() + 31 * DAY);
      expect(removed.sagas).toBeGreaterThanOrEqual(1);
      expect(await orchestrator.get(done)).toBeUndefined();
      expect((await orchestrator.get(stuck))?.status).toBe('STUCK');
    });

    it('parks a saga whose compensation keeps failing as STUCK, then resolve completes it', async () => {
      localCompensationFails = 1_000;
      const id = await orchestrator.begin('test.Transfer', { account: 'a6', amount: 500, log: [] });
      const stuck = await finished(id, 'STUCK');
      expect(stuck.direction).toBe('backward');
      expect(stuck.lastError).toBe('compensation store unavailable');
      expect(stuck.history.filter((h) => h.event === 'RETRY_SCHEDULED')).toHaveLength(2);
      expect(stuck.history.at(-1)).toMatchObject({ event: 'STUCK', step: 'note' });
      localCompensationFails = 0;

      await expect(orchestrator.resolve(id, { step: 'debit', as: 'compensated', note: 'x' })).rejects.toMatchObject({
        code: 'ILLEGAL_STATE',
      });
      await expect(orchestrator.resolve(id, { step: 'note', as: 'done', note: 'x' })).rejects.toMatchObject({
        code: 'ILLEGAL_STATE',
      });
      await expect(orchestrator.resolve(id, { step: 'note', as: 'compensated', note: ' ' })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
      const resolved = await orchestrator.resolve(id, {
        step: 'note',
        as: 'compensated',
        note: 'reverted by hand in the ledger, ticket OPS-42',
        actor: 'alice',
      });
      expect(resolved.status).toBe('COMPENSATED');
      const view = await orchestrator.get(id);
      expect(view!.history.find((h) => h.event === 'MANUAL_RESOLVE')!.detail).toMatchObject({
        as: 'compensated',
        actor: 'alice',
        note: 'reverted by hand in the ledger, ticket OPS-42',
      });
      expect(view!.history.at(-1)!.event).toBe('COMPENSATED');
    });

    it('retries a retriable step, parks it as STUCK past the limit, and a manual retry finishes it', async () => {
      confirmFails = 3;
      const id = await orchestrator.begin('test.Transfer', { account: 'a7', amount: 2, log: [] });
      const stuck = await finished(id, 'STUCK');
      expect(stuck.direction).toBe('forward');
      expect(stuck.history.at(-1)).toMatchObject({ event: 'STUCK', step: 'confirm' });
      await expect(orchestrator.retry(uniqueName('nope'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
      const retried = await orchestrator.retry(id, { actor: 'bob', note: 'confirm service fixed' });
      expect(retried.status).toBe('COMPLETED');
      await expect(orchestrator.retry(id)).rejects.toMatchObject({ code: 'ILLEGAL_STATE' });
    });

    it('times out a step without a reply and compensates, the timed-out step included', async () => {
      const id = await orchestrator.begin('test.WaitsForever', { account: 'a8', amount: 1, log: [] });
      const saga = await finished(id, 'COMPENSATED');
      expect(saga.failureReason).toBe('TIMEOUT');
      expect(saga.history.map((h) => h.event)).toContain('TIMEOUT');
    });

    it('aborts a STUCK saga on request, with a required note, and lists by status', async () => {
      localCompensationFails = 1_000;
      const id = await orchestrator.begin('test.Transfer', { account: 'a9', amount: 500, log: [] });
      await finished(id, 'STUCK');
      localCompensationFails = 0;
      await expect(orchestrator.abort(id, { note: '' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      const aborted = await orchestrator.abort(id, { note: 'customer withdrew', actor: 'carol' });
      expect(aborted.status).toBe('ABORTED');
      expect((await orchestrator.list({ status: 'ABORTED' })).map((s) => s.sagaId)).toContain(id);
      await expect(orchestrator.abort(id, { note: 'again' })).rejects.toMatchObject({ code: 'ILLEGAL_STATE' });
    });

    it('refuses retry, resolve and abort of a saga that is not STUCK (RUNNING, COMPENSATING, final)', async () => {
      // Held where it is: no timer, so the scheduler leaves it alone while the actions are tried.
      const hold = async (status: string, direction: string) => {
        const id = await orchestrator.begin('test.WaitsForever', { account: 'a10', amount: 1, log: [] });
        const d = sut.orchestratorStore.driver.dialect;
        await sut.orchestratorStore.driver.run((exec) =>
          exec.execute(`UPDATE ${d.table('saga_instances')} SET status = ?, direction = ?, wake_at = NULL WHERE saga_id = ?`, [
            status,
            direction,
            id,
          ]),
        );
        return id;
      };
      const compensating = await hold('COMPENSATING', 'backward');
      const running = await hold('RUNNING', 'forward');
      const completed = await orchestrator.begin('test.Transfer', { account: 'a11', amount: 1, log: [] });
      await finished(completed, 'COMPLETED');
      for (const [id, status] of [
        [compensating, 'COMPENSATING'],
        [running, 'RUNNING'],
        [completed, 'COMPLETED'],
      ] as const) {
        const refused = { code: 'ILLEGAL_STATE', name: 'SagaActionNotAllowedError', status };
        await expect(orchestrator.abort(id, { note: 'stop it' })).rejects.toMatchObject({ ...refused, action: 'abort' });
        const step = (await orchestrator.get(id))!.status === 'COMPLETED' ? 'confirm' : 'silent';
        const as = status === 'COMPENSATING' ? 'compensated' : 'done';
        await expect(orchestrator.resolve(id, { step, as, note: 'by hand' })).rejects.toMatchObject({ ...refused, action: 'resolve' });
        await expect(orchestrator.retry(id)).rejects.toMatchObject({ ...refused, action: 'retry' });
        const after = (await orchestrator.get(id))!;
        expect(after.status).toBe(status);
        expect(after.history.map((h) => h.event)).not.toContain('ABORTED');
      }
    });

    it('refuses saga data that fails its schema, naming the problem', async () => {
      await expect(orchestrator.begin('test.Transfer', { account: 1, amount: 1, log: [] } as never)).rejects.toMatchObject({
        code: 'INVALID_PAYLOAD',
      });
    });
  });
}
