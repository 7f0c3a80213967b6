import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCommand, defineSaga, ok, SagaOrchestrator, SagaParticipant, type SqlStore } from '@concord/core';
import { openSqliteStore } from '@concord/sqlite';
import { SagaExplorer, type SagaScenario } from './index.js';

const Hold = defineCommand('stock.Hold', {
  channel: 'stock',
  schema: z.object({ orderId: z.string() }),
  replies: { Held: z.object({}) },
  partitionKey: (p) => p.orderId,
});
const Release = defineCommand('stock.Release', {
  channel: 'stock',
  schema: z.object({ orderId: z.string() }),
  replies: { Released: z.object({}) },
  partitionKey: (p) => p.orderId,
});
const OrderData = z.object({ orderId: z.string() });

const rows = <T>(store: SqlStore, sql: string) => store.driver.run((exec) => exec.query<T>(sql));

/** Stock is held with a reply deadline; a reply that comes too late makes the saga compensate. */
function holdScenario(): SagaScenario<'shop' | 'stock', { orchestrator: SagaOrchestrator; participant: SagaParticipant }> {
  const saga = defineSaga('HoldStock', OrderData)
    .step('hold', {
      invoke: Hold.with((d) => d), onReply: { Held: ok() },
      compensate: { invoke: Release.with((d) => d) },
      timeoutMs: 1_000,
    })
    .step('done', { kind: 'pivot', local: () => undefined })
    .build();
  return {
    name: 'HoldStock',
    openStores: async () => {
      const stock = await openSqliteStore({ filename: ':memory:' });
      await stock.transaction((tx) => tx.sql.execute('CREATE TABLE holds (order_id TEXT PRIMARY KEY)'));
      return { shop: await openSqliteStore({ filename: ':memory:' }), stock };
    },
    start: async ({ stores, broker, clock, logger }) => {
      const participant = new SagaParticipant({ name: 'stock', store: stores.stock, broker, clock, logger })
        .handle(Hold, async (tx, cmd, reply) => {
          await tx.sql.execute('INSERT INTO holds (order_id) VALUES (?)', [cmd.orderId]);
          return reply.Held({});
        })
        .handle(Release, async (tx, cmd, reply) => {
          await tx.sql.execute('DELETE FROM holds WHERE order_id = ?', [cmd.orderId]);
          return reply.Released({});
        });
      const orchestrator = new SagaOrchestrator({ name: 'shop', store: stores.shop, broker, clock, logger, sagas: [saga], schedulerIntervalMs: 5 });
      await participant.start();
      await orchestrator.start();
      return { orchestrator, participant };
    },
    stop: async ({ orchestrator, participant }) => {
      await orchestrator.stop();
      await participant.stop();
    },
    act: async ({ orchestrator }) => void (await orchestrator.begin('HoldStock', { orderId: 'o1' }, { sagaId: 'hold-o1' })),
    invariants: {
      'stock is held exactly when the saga completed': async ({ stores }) => {
        const sagas = await rows<{ status: string }>(stores.shop, 'SELECT status FROM concord_saga_instances');
        const holds = await rows<{ order_id: string }>(stores.stock, 'SELECT order_id FROM holds');
        const status = sagas[0]?.status ?? 'NONE';
        if (!['COMPLETED', 'COMPENSATED', 'NONE'].includes(status)) return `saga is ${status}`;
        if ((status === 'COMPLETED') !== (holds.length === 1)) return `saga ${status} with ${holds.length} hold(s)`;
      },
    },
  };
}

describe('timers under the explorer', () => {
  it('a delayed command times the step out; the saga compensates and the late command is undone', async () => {
    // A generous wait: the scheduler's round must fall inside it for the timeout to come first.
    const explorer = new SagaExplorer(holdScenario(), { timerWaitMs: 200 });
    const clean = await explorer.replay('none');
    expect(clean.violation).toBeNull();
    const holdDelivery = clean.result.boundaries.find((b) => b.label === 'deliver stock.Hold to stock')!;
    const delayed = await explorer.replay(`delay@${holdDelivery.index}`);
    expect(delayed.violation).toBeNull();
    expect(delayed.result.boundaries.some((b) => b.label.includes('(timers)'))).toBe(true);
    expect(delayed.result.boundaries.filter((b) => b.label === 'deliver stock.Release to stock')).toHaveLength(1);
  });

  it('explores every fault of a saga with a deadline, timers firing, and every invariant holds', async () => {
    const report = await new SagaExplorer(holdScenario(), { timerWaitMs: 40 }).explore();
    expect(report.violation).toBeNull();
    expect(report.faultsInjected.delay).toBeGreaterThan(0);
  });
});
