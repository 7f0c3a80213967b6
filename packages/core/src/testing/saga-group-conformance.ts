import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../logging.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import { defineCommand } from '../saga/command-definition.js';
import { defineSaga } from '../saga/saga-definition.js';
import { fail, ok } from '../saga/saga-failure.js';
import { SagaOrchestrator } from '../saga/saga-orchestrator.js';
import { SagaParticipant } from '../saga/saga-participant.js';
import { objectSchema } from './object-schema.js';
import type { SagaUnderTest } from './saga-conformance.js';
import { eventually, uniqueName } from './wait.js';

interface OrderData {
  orderId: string;
  noAgent: boolean;
  log: string[];
}
const orderData = objectSchema<OrderData>((v) =>
  typeof v.orderId !== 'string' ? 'orderId: expected a string' : undefined,
);
const byOrder = objectSchema<{ orderId: string; noAgent?: boolean }>();
const empty = objectSchema<Record<string, never>>();
const agentReply = objectSchema<{ agentId: string }>();

/**
 * Parallel step groups (fork/join, compensation of the branches that succeeded) and deferred
 * replies (a participant answers later, within the step's timeout). Same factory as the saga suite.
 */
export function describeSagaGroupConformance(name: string, factory: () => Promise<SagaUnderTest>): void {
  describe(`Saga groups and deferred replies: ${name}`, () => {
    let sut: SagaUnderTest;
    const stops: Array<() => Promise<void>> = [];
    const channel = uniqueName('kitchen');
    const ReservePacket = defineCommand('test.ReservePacket', {
      channel,
      schema: byOrder,
      replies: { PacketReserved: empty },
    });
    const ReleasePacket = defineCommand('test.ReleasePacket', {
      channel,
      schema: byOrder,
      replies: { PacketReleased: empty },
    });
    const ReserveAgent = defineCommand('test.ReserveAgent', {
      channel,
      schema: byOrder,
      replies: { AgentReserved: agentReply, NoAgent: empty },
    });
    const ReleaseAgent = defineCommand('test.ReleaseAgent', {
      channel,
      schema: byOrder,
      replies: { AgentReleased: empty },
    });
    const Approve = defineCommand('test.ApproveByHand', {
      channel,
      schema: byOrder,
      replies: { Approved: empty, Refused: empty },
    });
    const Withdraw = defineCommand('test.WithdrawApproval', {
      channel,
      schema: byOrder,
      replies: { Withdrawn: empty },
    });
    const effects: string[] = [];
    const mine = (orderId: string) =>
      effects.filter((e) => e.endsWith(` ${orderId}`)).map((e) => e.slice(0, -orderId.length - 1));

    const placeOrder = defineSaga('test.PlaceOrder', orderData, { failures: ['NO_AGENT'] })
      .step('open', {
        local: (_tx, d) => ({ ...d, log: [...d.log, 'opened'] }),
        compensate: { local: (_tx, d) => void effects.push(`open undone ${d.orderId}`) },
      })
      .parallel(
        'reserve',
        (g) =>
          g
            .branch('packet', {
              invoke: ReservePacket.with((d) => ({ orderId: d.orderId })), onReply: { PacketReserved: ok() },
              compensate: { invoke: ReleasePacket.with((d) => ({ orderId: d.orderId })) },
            })
            .branch('agent', {
              invoke: ReserveAgent.with((d) => ({ orderId: d.orderId, noAgent: d.noAgent })),
              onReply: {
                NoAgent: fail('NO_AGENT'),
                AgentReserved: (_tx, d, r) => ({ ...d, log: [...d.log, `agent ${r.agentId}`] }),
              },
              compensate: { invoke: ReleaseAgent.with((d) => ({ orderId: d.orderId })) },
            }),
        { timeoutMs: 10_000 },
      )
      .step('place', { kind: 'retriable', local: (_tx, d) => ({ ...d, log: [...d.log, 'placed'] }) })
      .build();

    const approval = <N extends string>(sagaName: N, timeoutMs: number) =>
      defineSaga(sagaName, orderData, { failures: ['REFUSED'] })
        .step('approve', {
          invoke: Approve.with((d) => ({ orderId: d.orderId })),
          onReply: { Approved: ok(), Refused: fail('REFUSED') },
          compensate: { invoke: Withdraw.with((d) => ({ orderId: d.orderId })) },
          timeoutMs,
        })
        .step('done', { kind: 'pivot', local: () => undefined })
        .build();
    const approvedByHand = approval('test.ApprovedByHand', 60_000);
    const approvalTimesOut = approval('test.ApprovalTimesOut', 1_500);

    let orchestrator: SagaOrchestrator;
    let participant: SagaParticipant;

    beforeAll(async () => {
      sut = await factory();
      participant = new SagaParticipant({
        name: uniqueName('kitchen'),
        store: sut.participantStore,
        broker: sut.broker,
        logger: silentLogger,
      })
        .handle(
          ReservePacket,
          (tx, cmd, reply) => (
            tx.afterCommit(() => effects.push(`packet reserved ${cmd.orderId}`)),
            reply.PacketReserved({})
          ),
        )
        .handle(
          ReleasePacket,
          (tx, cmd, reply) => (
            tx.afterCommit(() => effects.push(`packet released ${cmd.orderId}`)),
            reply.PacketReleased({})
          ),
        )
        .handle(ReserveAgent, (tx, cmd, reply) => {
          if (cmd.noAgent) return reply.NoAgent({});
          tx.afterCommit(() => effects.push(`agent reserved ${cmd.orderId}`));
          return reply.AgentReserved({ agentId: 'a-1' });
        })
        .handle(
          ReleaseAgent,
          (tx, cmd, reply) => (
            tx.afterCommit(() => effects.push(`agent released ${cmd.orderId}`)),
            reply.AgentReleased({})
          ),
        )
        .handle(
          Approve,
          (tx, cmd, reply) => (
            tx.afterCommit(() => effects.push(`approval asked ${cmd.orderId}`)),
            reply.later()
          ),
        )
        .handle(
          Withdraw,
          (tx, cmd, reply) => (
            tx.afterCommit(() => effects.push(`approval withdrawn ${cmd.orderId}`)),
            reply.Withdrawn({})
          ),
        );
      orchestrator = new SagaOrchestrator({
        name: uniqueName('orders'),
        store: sut.orchestratorStore,
        broker: sut.broker,
        sagas: [placeOrder, approvedByHand, approvalTimesOut],
        schedulerIntervalMs: 20,
        logger: silentLogger,
      });
      const relays = [sut.orchestratorStore, sut.participantStore].map(
        (store) => new OutboxRelay({ store, broker: sut.broker, logger: silentLogger, pollIntervalMs: 50 }),
      );
      await participant.start();
      await orchestrator.start();
      for (const r of relays) r.start();
      stops.push(
        () => participant.stop(),
        () => orchestrator.stop(),
        ...relays.map((r) => () => r.stop()),
      );
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

    it('runs both branches of a group and joins before the next step', async () => {
      const orderId = uniqueName('o');
      const saga = await finished(
        await orchestrator.begin('test.PlaceOrder', { orderId, noAgent: false, log: [] }),
        'COMPLETED',
      );
      expect((saga.data as OrderData).log).toEqual(['opened', 'agent a-1', 'placed']);
      expect(mine(orderId).sort()).toEqual(['agent reserved', 'packet reserved']);
      const sent = saga.history.filter((h) => h.event === 'COMMAND_SENT').map((h) => h.detail.command);
      expect(sent.sort()).toEqual([ReserveAgent.type, ReservePacket.type]);
      // Both commands were sent in one transition, before either reply.
      const firstReply = saga.history.findIndex((h) => h.event === 'REPLY');
      expect(saga.history.slice(0, firstReply).filter((h) => h.event === 'COMMAND_SENT')).toHaveLength(2);
      expect(
        saga.history
          .filter((h) => h.event === 'BRANCH_DONE')
          .map((h) => h.step)
          .sort(),
      ).toEqual(['reserve.agent', 'reserve.packet']);
      const branchRows = await sut.orchestratorStore.driver.run((exec) =>
        exec.query(
          `SELECT branch FROM ${sut.orchestratorStore.driver.dialect.table('saga_branches')} WHERE saga_id = ?`,
          [saga.sagaId],
        ),
      );
      expect(branchRows).toEqual([]);
    });

    it('compensates the first branch when the second fails, then the steps before the group', async () => {
      const orderId = uniqueName('o');
      const saga = await finished(
        await orchestrator.begin('test.PlaceOrder', { orderId, noAgent: true, log: [] }),
        'COMPENSATED',
      );
      expect(saga.failureReason).toBe('NO_AGENT');
      await eventually(() => mine(orderId).includes('open undone'));
      expect(mine(orderId)).toEqual(['packet reserved', 'packet released', 'open undone']);
      expect(saga.history.find((h) => h.event === 'BRANCH_FAILED')).toMatchObject({
        step: 'reserve.agent',
        detail: { reason: 'NO_AGENT' },
      });
      expect(saga.history.find((h) => h.event === 'BRANCH_COMPENSATED')).toMatchObject({
        step: 'reserve.packet',
      });
    });

    it('waits for a deferred reply and goes on when the participant answers later', async () => {
      const orderId = uniqueName('o');
      const id = await orchestrator.begin('test.ApprovedByHand', { orderId, noAgent: false, log: [] });
      const pending = await eventually(async () =>
        (await participant.pendingReplies()).find((p) => p.sagaId === id),
      );
      expect(pending).toMatchObject({ step: 'approve', action: 'invoke', commandType: Approve.type });
      expect((await orchestrator.get(id))!.status).toBe('RUNNING');
      await participant.answer(Approve, pending.deferredId, (r) => r.Approved({}));
      await finished(id, 'COMPLETED');
      await expect(
        participant.answer(Approve, pending.deferredId, (r) => r.Approved({})),
      ).rejects.toMatchObject({ code: 'ILLEGAL_STATE' });
      await expect(
        participant.answer(Withdraw, pending.deferredId, (r) => r.Withdrawn({})),
      ).rejects.toMatchObject({ code: 'ILLEGAL_STATE' });
    });

    it('gives up on a deferred reply at the step timeout, compensates, and refuses the late answer', async () => {
      const orderId = uniqueName('o');
      const id = await orchestrator.begin('test.ApprovalTimesOut', { orderId, noAgent: false, log: [] });
      const pending = await eventually(async () =>
        (await participant.pendingReplies()).find((p) => p.sagaId === id),
      );
      const saga = await finished(id, 'COMPENSATED');
      expect(saga.failureReason).toBe('TIMEOUT');
      await eventually(() => mine(orderId).includes('approval withdrawn'));
      await expect(
        participant.answer(Approve, pending.deferredId, (r) => r.Approved({})),
      ).rejects.toMatchObject({ code: 'ILLEGAL_STATE' });
    });
  });
}
