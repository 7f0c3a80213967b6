import { MessageConsumer } from '../consumer/message-consumer.js';
import { InvalidArgumentError } from '../errors.js';
import { defaultLogger } from '../logging.js';
import { MessageHeader, type MessageEnvelope } from '../message/envelope.js';
import type { PayloadOf } from '../message/message-definition.js';
import type { Broker } from '../ports/broker.js';
import type { Logger } from '../ports/logger.js';
import type { Transaction } from '../ports/store.js';
import {
  replyBuilder,
  type CommandDefinition,
  type RepliesOf,
  type ReplyBuilder,
  type ReplyToken,
} from '../saga/command-definition.js';
import type { SagaAction } from '../saga/saga-instance.js';
import { SAGA_ATTEMPT_HEADER, sagaReplyMessage } from '../saga/saga-messages.js';
import type { SqlStore } from '../sql/sql-store.js';
import type { RemoteCallDefinition, RemoteCallFunction } from './remote-call-definition.js';
import { newRemoteCallRecord, type RemoteCallRecord } from './remote-call-repository.js';
import { isPending, onRequest } from './remote-call-state.js';
import { RemoteCallTracker, type RemoteCallTrackerOptions } from './remote-call-tracker.js';

/** Where a saga step's reply goes, kept with the intent until the call settles. */
export interface SagaReplyRoute {
  readonly channel: string;
  readonly sagaId: string;
  readonly step: string;
  readonly action: SagaAction;
  readonly attempt: number;
}

/** The intent payload of a saga step's remote call: the call's own input, and its reply route. */
export interface SagaStepCallPayload<P> {
  readonly input: P;
  readonly replyTo: SagaReplyRoute;
}

/** A saga step whose participant is a tracked remote call: create on invoke, delete on compensate. */
export interface RemoteCallStep<C extends CommandDefinition, K extends CommandDefinition, P> {
  /** The remote call type (unique in the tracker). */
  readonly type: string;
  readonly invoke: C;
  readonly input: (command: PayloadOf<C>) => P;
  readonly create: RemoteCallFunction<P>;
  /** The step's reply once the create settled: `created` or `create_failed`. */
  readonly reply: (
    record: RemoteCallRecord<P>,
    reply: ReplyBuilder<RepliesOf<C>>,
  ) => ReplyToken<RepliesOf<C>>;
  readonly compensate?: {
    readonly command: K;
    readonly delete: RemoteCallFunction<P>;
    readonly reply: (
      record: RemoteCallRecord<P>,
      reply: ReplyBuilder<RepliesOf<K>>,
    ) => ReplyToken<RepliesOf<K>>;
  };
}

/** Keeps the command, compensation and payload types of a step for its reply builders. */
export function remoteCallStep<C extends CommandDefinition, K extends CommandDefinition, P>(
  step: RemoteCallStep<C, K, P>,
): RemoteCallStep<C, K, P> {
  return step;
}

export interface RemoteCallSagaParticipantOptions {
  /** The consumer group of the step commands. */
  readonly name: string;
  readonly store: SqlStore;
  readonly broker: Broker;
  readonly logger?: Logger;
  /** Options of the participant's own tracker (retries, timeouts, parking). */
  readonly tracker?: Omit<RemoteCallTrackerOptions, 'store' | 'calls' | 'logger'>;
}

type AnyStep = RemoteCallStep<CommandDefinition, CommandDefinition, unknown>;

/**
 * Serves saga commands with tracked remote calls: the command's transaction records the intent
 * (the saga's step key is the caller-assigned key), and the reply goes out through the outbox
 * in the transaction that records the call's outcome, however long retries take. A duplicate
 * command finds the same intent; one for a settled intent is answered at once; a compensation
 * deletes by key, even while the create's answer is missing; a compensation that comes first
 * blocks a late create.
 */
export class RemoteCallSagaParticipant {
  readonly tracker: RemoteCallTracker;
  private readonly consumer: MessageConsumer;
  private readonly steps: AnyStep[] = [];

  constructor(
    private readonly options: RemoteCallSagaParticipantOptions,
    steps: ReadonlyArray<RemoteCallStep<any, any, any>>, // eslint-disable-line @typescript-eslint/no-explicit-any
  ) {
    const logger = options.logger ?? defaultLogger();
    this.consumer = new MessageConsumer({
      name: options.name,
      store: options.store,
      broker: options.broker,
      logger,
    });
    for (const step of steps as AnyStep[]) {
      this.steps.push(step);
      this.consumer.handle(step.invoke, (tx, payload, message) =>
        this.handle(tx, step, 'invoke', payload, message),
      );
      if (step.compensate)
        this.consumer.handle(step.compensate.command, (tx, payload, message) =>
          this.handle(tx, step, 'compensate', payload, message),
        );
    }
    this.tracker = new RemoteCallTracker({
      ...options.tracker,
      store: options.store,
      logger,
      calls: this.steps.map((s) => this.callOf(s)),
    });
  }

  async start(): Promise<void> {
    this.tracker.start();
    await this.consumer.start();
  }

  async stop(): Promise<void> {
    await this.consumer.stop();
    await this.tracker.stop();
  }

  /** The tracked call type of a step: unwraps the payload, and replies when an outcome is recorded. */
  private callOf(step: AnyStep): RemoteCallDefinition<SagaStepCallPayload<unknown>> {
    const unwrap =
      (fn: RemoteCallFunction<unknown>): RemoteCallFunction<SagaStepCallPayload<unknown>> =>
      (call) =>
        fn({ ...call, payload: call.payload.input });
    return {
      type: step.type,
      create: unwrap(step.create),
      ...(step.compensate ? { delete: unwrap(step.compensate.delete) } : {}),
      onSettled: (tx, record) => this.reply(tx, step, record),
    };
  }

  private async handle(
    tx: Transaction<unknown>,
    step: AnyStep,
    action: SagaAction,
    payload: unknown,
    message: MessageEnvelope,
  ): Promise<void> {
    const h = message.headers;
    const sagaId = h[MessageHeader.sagaId];
    const stepName = h[MessageHeader.sagaStep];
    const channel = h[MessageHeader.replyChannel];
    if (!sagaId || !stepName || !channel)
      throw new InvalidArgumentError(
        `${message.type} ${message.id} is not a saga command (saga id, step and reply channel headers are required)`,
      );
    const replyTo: SagaReplyRoute = {
      channel,
      sagaId,
      step: stepName,
      action,
      attempt: Number(h[SAGA_ATTEMPT_HEADER] ?? '1') || 1,
    };
    // One key for the step's action and its compensation: they act on the same remote object.
    const key = `${sagaId}:${stepName}`;
    const operation = action === 'invoke' ? 'create' : 'delete';
    const current = await this.tracker.find<SagaStepCallPayload<unknown>>(tx, step.type, key);
    const input = action === 'invoke' ? step.input(payload) : (current?.payload.input ?? null);
    if (!current && action === 'compensate') {
      // Nothing was asked: a null compensation, and a late create must not run.
      await this.tracker.block(tx, step.type, key, { input, replyTo });
      return this.send(
        tx,
        replyTo,
        this.compensationReply(step, { ...newRemoteCallRecord(step.type, key, 'deleted', input, 0, 1) }),
      );
    }
    let transition;
    try {
      transition = onRequest(current?.state, operation, key);
    } catch (error) {
      // A create after its compensation (hanging): the orchestrator moved on; nothing to do.
      if (action === 'invoke' && current?.state.startsWith('delete')) return;
      if (action === 'invoke' && current?.state === 'deleted') return;
      throw error;
    }
    if (transition.kind === 'unchanged' && current) {
      if (isPending(current.state))
        await this.tracker.replacePayload(tx, current, { input: current.payload.input, replyTo });
      else
        await this.send(
          tx,
          replyTo,
          this.replyFor(step, { ...current, payload: current.payload.input }, action),
        );
      return;
    }
    await this.tracker.request<SagaStepCallPayload<unknown>>(tx, {
      type: step.type,
      key,
      operation,
      payload: { input, replyTo },
    });
  }

  private async reply(
    tx: Transaction<unknown>,
    step: AnyStep,
    record: RemoteCallRecord<SagaStepCallPayload<unknown>>,
  ): Promise<void> {
    const route = record.payload.replyTo;
    await this.send(
      tx,
      route,
      this.replyFor(step, { ...record, payload: record.payload.input }, route.action),
    );
  }

  private replyFor(step: AnyStep, record: RemoteCallRecord<unknown>, action: SagaAction): ReplyToken {
    if (action === 'compensate') return this.compensationReply(step, record);
    return step.reply(record, replyBuilder(step.invoke.replies));
  }

  private compensationReply(step: AnyStep, record: RemoteCallRecord<unknown>): ReplyToken {
    const c = step.compensate!;
    return c.reply(record, replyBuilder(c.command.replies));
  }

  private async send(tx: Transaction<unknown>, route: SagaReplyRoute, token: ReplyToken): Promise<void> {
    await tx.outbox.send(sagaReplyMessage(route.channel), {
      sagaId: route.sagaId,
      step: route.step,
      action: route.action,
      attempt: route.attempt,
      reply: token.reply,
      body: token.payload,
    });
  }
}
