import { z } from 'zod';
import { defineCommand, defineSaga, fail, ok, SagaOrchestrator, SagaParticipant, type SqlStore } from '@concord/core';
import { openSqliteStore } from '@concord/sqlite';
import { formatReport, formatViolation, SagaExplorer, type SagaScenario } from '@concord/testing';

// #region quickstart
/** A bank debits an account (the pivot); the shop then records the payment (retriable). */
const Debit = defineCommand('bank.Debit', {
  channel: 'bank',
  schema: z.object({ paymentId: z.string(), amount: z.number().int() }),
  replies: { Debited: z.object({}), Refused: z.object({}) },
  partitionKey: (p) => p.paymentId,
});
const PaymentData = z.object({ paymentId: z.string(), amount: z.number().int() });

type Services = 'shop' | 'bank';
interface Runtime {
  orchestrator: SagaOrchestrator;
  participant: SagaParticipant;
}

const count = async (store: SqlStore, sql: string) =>
  Number((await store.driver.run((exec) => exec.query<{ n: number }>(sql)))[0]!.n);

/**
 * `receipts` stands for a system outside the bank's database (an e-mail sender): it survives
 * the bank's crashes. With `receiptAfterCommit` false the handler sends the receipt from
 * inside the handler, before the commit: the classic side effect outside the transaction.
 */
export function paymentScenario(options: { receiptAfterCommit: boolean }): SagaScenario<Services, Runtime> {
  let receipts: string[] = [];
  const payment = defineSaga('Payment', PaymentData, { failures: ['REFUSED'] })
    .step('debit', { kind: 'pivot', invoke: Debit.with((d) => d), onReply: { Debited: ok(), Refused: fail('REFUSED') } })
    .step('record', {
      kind: 'retriable',
      local: async (tx, d) => {
        await tx.sql.execute('INSERT INTO payments (id, amount) VALUES (?, ?)', [d.paymentId, d.amount]);
      },
    })
    .build();
  return {
    name: 'Payment',
    openStores: async () => {
      receipts = [];
      const shop = await openSqliteStore({ filename: ':memory:' });
      const bank = await openSqliteStore({ filename: ':memory:' });
      await shop.transaction((tx) => tx.sql.execute('CREATE TABLE payments (id TEXT PRIMARY KEY, amount INTEGER)'));
      await bank.transaction((tx) => tx.sql.execute('CREATE TABLE debits (id TEXT PRIMARY KEY, amount INTEGER)'));
      return { shop, bank };
    },
    start: async ({ stores, broker, clock, logger }) => {
      const participant = new SagaParticipant({ name: 'bank', store: stores.bank, broker, clock, logger }).handle(Debit, async (tx, cmd, reply) => {
        await tx.sql.execute('INSERT INTO debits (id, amount) VALUES (?, ?)', [cmd.paymentId, cmd.amount]);
        if (options.receiptAfterCommit) tx.afterCommit(() => receipts.push(cmd.paymentId));
        else receipts.push(cmd.paymentId);
        return reply.Debited({});
      });
      const orchestrator = new SagaOrchestrator({ name: 'shop', store: stores.shop, broker, clock, logger, sagas: [payment] });
      await participant.start();
      await orchestrator.start();
      return { orchestrator, participant };
    },
    stop: async ({ orchestrator, participant }) => {
      await orchestrator.stop();
      await participant.stop();
    },
    act: async ({ orchestrator }) => {
      await orchestrator.begin('Payment', { paymentId: 'p1', amount: 5 }, { sagaId: 'payment-p1' });
    },
    invariants: {
      'the saga completed': async ({ stores, actCompleted }) => {
        const open = await count(stores.shop, `SELECT COUNT(*) AS n FROM concord_saga_instances WHERE status <> 'COMPLETED'`);
        if (open > 0) return `${open} saga(s) not COMPLETED`;
        if (actCompleted && (await count(stores.shop, 'SELECT COUNT(*) AS n FROM payments')) !== 1) return 'payment not recorded';
      },
      'debited once': async ({ stores }) => {
        const debits = await count(stores.bank, 'SELECT COUNT(*) AS n FROM debits');
        if (debits > 1) return `${debits} debits`;
      },
      'one receipt per debit': async ({ stores }) => {
        const debits = await count(stores.bank, 'SELECT COUNT(*) AS n FROM debits');
        if (receipts.length > debits) return `${receipts.length} receipts for ${debits} debit(s)`;
      },
    },
  };
}

/** Explores the payment saga; with the receipt sent before the commit it finds that bug. */
export async function quickstart(options = { receiptAfterCommit: true }): Promise<string> {
  const explorer = new SagaExplorer(paymentScenario(options));
  const report = await explorer.explore();
  console.log(formatReport(report));
  // e.g. "Payment: 17 schedules (exhaustive, 1 fault(s) per run) over 7 boundaries in 1320 ms; ...; no violation"
  if (report.violation) console.log(formatViolation(report.violation)); // schedule, broken invariants, trace
  return report.violation?.schedule ?? 'none';
}
// #endregion quickstart
