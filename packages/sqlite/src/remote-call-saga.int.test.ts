import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  OutboxRelay,
  RemoteCallRejectedError,
  RemoteCallSagaParticipant,
  SagaOrchestrator,
  defineCommand,
  defineSaga,
  remoteCallStep,
  fail,
  silentLogger,
  type StandardSchemaV1,
} from '@concord/core';
import { eventually, uniqueName } from '@concord/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteBroker, openSqliteStore, type SqliteDatabase } from './index.js';

function schema<T>(): StandardSchemaV1<T> {
  return { '~standard': { version: 1, vendor: 'test', validate: (value) => ({ value: value as T }) } };
}

interface ShipData {
  shipmentId: number;
  labelId?: string;
}

/** A carrier in memory: one label per key, made before the answer, which it may lose. */
const labels = new Map<string, { id: string; voided: boolean }>();
let loseNext = 0;
let creates = 0;
function carrierCreate(key: string): string {
  creates++;
  if (key.includes('refused')) throw new RemoteCallRejectedError('no such address');
  let label = labels.get(key);
  if (!label) labels.set(key, (label = { id: `L${labels.size + 1}`, voided: false }));
  if (loseNext > 0 && loseNext--) throw new Error('connection reset');
  return label.id;
}

describe('a saga step whose participant is a tracked remote call (SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'concord-remote-saga-'));
  const channel = uniqueName('carrier');
  const CreateLabel = defineCommand('test.CreateLabel', {
    channel,
    schema: schema<{ shipmentId: number }>(),
    replies: { LabelCreated: schema<{ labelId: string }>(), LabelRefused: schema<{ why: string }>() },
  });
  const VoidLabel = defineCommand('test.VoidLabel', {
    channel,
    schema: schema<{ shipmentId: number }>(),
    replies: { LabelVoided: schema<{ labelId: string | null }>() },
  });
  const ship = defineSaga('test.Ship', schema<ShipData>(), { failures: ['REFUSED'] })
    .step('label', {
      invoke: CreateLabel.with((d) => ({ shipmentId: d.shipmentId })),
      onReply: {
        LabelRefused: fail('REFUSED'),
        LabelCreated: (_tx, d, r) => ({ ...d, labelId: r.labelId }),
      },
      compensate: { invoke: VoidLabel.with((d) => ({ shipmentId: d.shipmentId })) },
    })
    .step('book', {
      kind: 'pivot',
      local: (_tx, d) => {
        if (d.shipmentId >= 100) throw new Error('no truck');
      },
    })
    .build();
  let orchestrator: SagaOrchestrator<SqliteDatabase>;
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    const orchestratorStore = await openSqliteStore({
      filename: join(dir, 'orders.db'),
      logger: silentLogger,
    });
    const participantStore = await openSqliteStore({
      filename: join(dir, 'shipping.db'),
      logger: silentLogger,
    });
    const broker = await openSqliteBroker({
      filename: join(dir, 'broker.db'),
      logger: silentLogger,
      leaseMs: 1_000,
      pollIntervalMs: 50,
    });
    await participantStore.migrate();
    const participant = new RemoteCallSagaParticipant(
      {
        name: uniqueName('shipping'),
        store: participantStore,
        broker,
        logger: silentLogger,
        tracker: { backoff: { initialMs: 5, maxMs: 20, multiplier: 2, jitter: 0 }, pollMs: 50 },
      },
      [
        remoteCallStep({
          type: 'label',
          invoke: CreateLabel,
          input: (cmd) => ({ shipmentId: cmd.shipmentId }),
          create: async (call) => ({ remoteId: carrierCreate(call.key) }),
          reply: (r, reply) =>
            r.state === 'created'
              ? reply.LabelCreated({ labelId: r.remoteId! })
              : reply.LabelRefused({ why: r.lastError ?? '' }),
          compensate: {
            command: VoidLabel,
            delete: async (call) => {
              const id = call.remoteId ?? carrierCreate(call.key);
              for (const l of labels.values()) if (l.id === id) l.voided = true;
              return { remoteId: id };
            },
            reply: (r, reply) => reply.LabelVoided({ labelId: r.remoteId }),
          },
        }),
      ],
    );
    orchestrator = new SagaOrchestrator({
      name: uniqueName('orders'),
      store: orchestratorStore,
      broker,
      sagas: [ship],
      schedulerIntervalMs: 20,
      logger: silentLogger,
    });
    const relays = [orchestratorStore, participantStore].map(
      (store) => new OutboxRelay({ store, broker, logger: silentLogger, pollIntervalMs: 20 }),
    );
    await participant.start();
    await orchestrator.start();
    for (const r of relays) r.start();
    stops.push(
      ...relays.map((r) => () => r.stop()),
      () => orchestrator.stop(),
      () => participant.stop(),
      () => broker.close(),
      () => orchestratorStore.close(),
      () => participantStore.close(),
    );
  });
  afterAll(async () => {
    for (const stop of stops) await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  const finished = (sagaId: string) =>
    eventually(async () => {
      const s = await orchestrator.get(sagaId);
      return s && ['COMPLETED', 'COMPENSATED', 'STUCK'].includes(s.status) && s;
    }, 20_000);

  it('replies when the call settles, after lost answers, with one label for the step key', async () => {
    loseNext = 2;
    const before = creates;
    const sagaId = await orchestrator.begin('test.Ship', { shipmentId: 1 });
    const saga = await finished(sagaId);
    expect(saga).toMatchObject({ status: 'COMPLETED', data: { shipmentId: 1, labelId: 'L1' } });
    expect(creates - before).toBe(3);
    expect(labels.get(`${sagaId}:label`)).toEqual({ id: 'L1', voided: false });
  });

  it('compensates by voiding the label when a later step fails', async () => {
    const sagaId = await orchestrator.begin('test.Ship', { shipmentId: 100 });
    const saga = await finished(sagaId);
    expect(saga.status).toBe('COMPENSATED');
    expect(labels.get(`${sagaId}:label`)).toMatchObject({ voided: true });
  });

  it('turns a refused call into the step failure reply', async () => {
    const sagaId = await orchestrator.begin('test.Ship', { shipmentId: 7 }, { sagaId: uniqueName('refused') });
    const saga = await finished(sagaId);
    expect(saga).toMatchObject({ status: 'COMPENSATED', failureReason: 'REFUSED' });
  });
});
