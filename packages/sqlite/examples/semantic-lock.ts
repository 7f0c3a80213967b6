// #region semantic-lock
import {
  OutboxRelay,
  SagaOrchestrator,
  SagaParticipant,
  defineCommand,
  defineSaga,
  fail,
  ok,
} from '@concord/core';
import { openSqliteBroker, openSqliteStore } from '@concord/sqlite';
import { z } from 'zod';

const Order = z.object({ orderId: z.string() });
const CreateOrder = defineCommand('shop.CreateOrder', {
  channel: 'orders',
  schema: Order,
  replies: { Created: z.object({}) },
});
const CancelOrder = defineCommand('shop.CancelOrder', {
  channel: 'orders',
  schema: Order,
  replies: { Cancelled: z.object({}) },
});
const ReserveStock = defineCommand('shop.ReserveStock', {
  channel: 'stock',
  schema: Order,
  replies: { Reserved: z.object({}) },
});
const ReserveCourier = defineCommand('shop.ReserveCourier', {
  channel: 'couriers',
  schema: Order,
  replies: { Reserved: z.object({}), NoCourier: z.object({}) },
});

// Create: lock the order, then reserve stock and a courier in parallel.
const createOrder = defineSaga('shop.CreateOrder', Order, { failures: ['NO_COURIER'] })
  .step('create', { invoke: CreateOrder.with((d) => d), onReply: { Created: ok() } })
  .parallel('reserve', (g) =>
    g
      .branch('stock', { invoke: ReserveStock.with((d) => d), onReply: { Reserved: ok() } })
      .branch('courier', {
        invoke: ReserveCourier.with((d) => d),
        onReply: { Reserved: ok(), NoCourier: fail('NO_COURIER') },
      }),
  )
  .build();
const cancelOrder = defineSaga('shop.CancelOrder', Order)
  .step('cancel', { invoke: CancelOrder.with((d) => d), onReply: { Cancelled: ok() } })
  .build();

export async function semanticLockExample(
  dir: string,
): Promise<{ create: string; cancel: string; reason: string | null }> {
  const shop = await openSqliteStore({ filename: `${dir}/shop.db` });
  const broker = await openSqliteBroker({ filename: `${dir}/broker.db` });
  const orders = new SagaParticipant({ name: 'orders', store: shop, broker });
  orders
    .handle(CreateOrder, async (tx, cmd, reply, message) => {
      await orders.locks.acquire(tx, message, `order:${cmd.orderId}`, 'fail'); // held until the saga ends
      return reply.Created({});
    })
    .handle(CancelOrder, async (tx, cmd, reply, message) => {
      await orders.locks.acquire(tx, message, `order:${cmd.orderId}`, 'fail'); // another saga holds it: RESOURCE_LOCKED
      return reply.Cancelled({});
    });
  const warehouse = new SagaParticipant({ name: 'warehouse', store: shop, broker })
    .handle(ReserveStock, (_tx, _cmd, reply) => reply.Reserved({}))
    // The courier desk answers later (a person decides): the saga waits for it.
    .handle(ReserveCourier, (_tx, _cmd, reply) => reply.later());
  const orchestrator = new SagaOrchestrator({
    name: 'shop',
    store: shop,
    broker,
    sagas: [createOrder, cancelOrder],
  });
  const relay = new OutboxRelay({ store: shop, broker });
  await Promise.all([orders.start(), warehouse.start(), orchestrator.start()]);
  relay.start();

  const until = async (check: () => Promise<boolean>) => {
    while (!(await check())) await new Promise((r) => setTimeout(r, 20));
  };
  const create = await orchestrator.begin('shop.CreateOrder', { orderId: 'o-1' });
  await until(async () => (await warehouse.pendingReplies()).length === 1); // the courier question is open
  const cancel = await orchestrator.begin('shop.CancelOrder', { orderId: 'o-1' });
  await until(async () => (await orchestrator.get(cancel))?.status === 'COMPENSATED'); // refused: o-1 is locked
  const [question] = await warehouse.pendingReplies();
  await warehouse.answer(ReserveCourier, question!.deferredId, (reply) => reply.Reserved({}));
  await until(async () => (await orchestrator.get(create))?.status === 'COMPLETED');
  const result = {
    create: (await orchestrator.get(create))!.status,
    cancel: (await orchestrator.get(cancel))!.status,
    reason: (await orchestrator.get(cancel))!.failureReason,
  };

  await relay.stop();
  await Promise.all([orders.stop(), warehouse.stop(), orchestrator.stop()]);
  await broker.close();
  await shop.close();
  return result;
}
// #endregion semantic-lock
