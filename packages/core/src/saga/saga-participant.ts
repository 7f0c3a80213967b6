import { MessageConsumer } from '../consumer/message-consumer.js';
import { IllegalStateError, InvalidArgumentError } from '../errors.js';
import { DeadlockDetector } from '../isolation/deadlock-detector.js';
import { LockWaitRequired, ResourceLockedError } from '../isolation/lock-errors.js';
import { lockGraphSource, type LockGraphSource } from '../isolation/lock-graph-source.js';
import { SemanticLocks, type HeldLock, type LockWait } from '../isolation/semantic-locks.js';
import type { WaitCycle, WaitEdge } from '../isolation/waits-for-graph.js';
import type { Instrumentation } from '../ports/instrumentation.js';
import { defaultLogger } from '../logging.js';
import { MessageHeader, type MessageEnvelope } from '../message/envelope.js';
import type { PayloadOf } from '../message/message-definition.js';
import type { Broker } from '../ports/broker.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Transaction } from '../ports/store.js';
import { validatePayload } from '../schema.js';
import { SqlStoreTransaction } from '../sql/sql-store.js';
import {
  replyBuilder,
  type CommandDefinition,
  type RepliesOf,
  type ReplyBuilder,
  type ReplySchemas,
  type ReplyToken,
} from './command-definition.js';
import { DEFERRED, DeferredReplies, deferredReplyId, isDeferredReply, type DeferredReply, type PendingReply } from './deferred-replies.js';
import { failDeadlockVictim } from './deadlock-victim.js';
import { ParticipantBarrier, type BarrierDecision } from './participant-barrier.js';
import { replyVersionOf } from './reply-versions.js';
import type { SagaAction } from './saga-instance.js';
import {
  barrierAction,
  NULL_COMPENSATION_REPLY,
  RESOURCE_LOCKED_REPLY,
  SAGA_ATTEMPT_HEADER,
  sagaEndedMessage,
  sagaReplyMessage,
} from './saga-messages.js';

/** The declared replies, plus `later()`: the answer comes later, through `SagaParticipant.answer`. */
export type ParticipantReplies<R extends ReplySchemas> = ReplyBuilder<R> & { readonly later: () => DeferredReply };
import { RetentionSweeper, type RetentionTask } from '../retention/retention-sweeper.js';
import type { SagaStore } from './saga-store.js';

export type CommandHandler<H, C extends CommandDefinition> = (
  tx: Transaction<H>,
  command: PayloadOf<C>,
  reply: ParticipantReplies<RepliesOf<C>>,
  message: MessageEnvelope,
) => HandlerOutcome<RepliesOf<C>> | Promise<HandlerOutcome<RepliesOf<C>>>;

type HandlerOutcome<R extends ReplySchemas> = ReplyToken<R> | DeferredReply;

export interface SagaParticipantOptions<H> {
  /** The consumer group of this participant's command handlers. */
  readonly name: string;
  readonly store: SagaStore<H>;
  readonly broker: Broker;
  /**
   * Barrier rows of a saga are deleted this long after its orchestrator announced it finished.
   * Default 7 days. Rows of unfinished sagas are kept (see `unfinishedRetentionMs`). The inbox
   * is the store's (see `storeRetentionTask`).
   */
  readonly retentionMs?: number;
  /**
   * Opt-in: also delete barrier rows of sagas never announced finished once they are this old.
   * Default null (keep them: a STUCK saga retried later needs them). Only for orchestrators of
   * older Concord versions, which send no finish notes.
   */
  readonly unfinishedRetentionMs?: number | null;
  /** How often the barrier is swept. Default min(retentionMs, 1 hour). */
  readonly sweepIntervalMs?: number;
  readonly maxAttempts?: number;
  /**
   * Commands handled in one transaction at most (the consumer's batch). 1 when handlers touch
   * hot rows of several resources (reservation pools): a batch would hold one pool's row while
   * waiting for another's, and two such batches deadlock.
   */
  readonly maxBatchSize?: number;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /**
   * Runs a deadlock detector over the waits-for graph of this service (named `service`) and
   * its peers' lock tables; it breaks the cycles whose youngest saga waits here.
   */
  readonly deadlockDetection?: { readonly service: string; readonly peers: readonly LockGraphSource[]; readonly intervalMs?: number };
  /** Told about the command consumer's batches and failures (metrics, tracing). */
  readonly instrumentation?: Instrumentation;
}

/**
 * Handles saga commands behind a barrier (see ParticipantBarrier) and sends the typed reply
 * through the outbox, all in the handler's own local transaction. The handler returns one of
 * the command's declared replies: anything else does not compile.
 */
export class SagaParticipant<H = unknown> {
  private readonly consumer: MessageConsumer<H>;
  private readonly barrier: ParticipantBarrier;
  private readonly clock: Clock;
  private readonly retentionMs: number;
  private readonly sweeper: RetentionSweeper;
  private finishedRegistered = false;
  private readonly logger: Logger;
  private readonly channels = new Set<string>();
  private readonly deferred: DeferredReplies;
  private detector: DeadlockDetector | undefined;
  /** Semantic locks in this participant's database; take them in handlers with `locks.acquire(tx, message, ...)`. */
  readonly locks: SemanticLocks;

  constructor(private readonly options: SagaParticipantOptions<H>) {
    this.clock = options.clock ?? systemClock;
    this.retentionMs = options.retentionMs ?? 7 * 24 * 3_600_000;
    this.logger = (options.logger ?? defaultLogger()).child({ component: 'saga-participant', participant: options.name });
    this.barrier = new ParticipantBarrier(options.store.sqlDialect);
    this.locks = new SemanticLocks(options.store.sqlDialect, this.clock);
    this.deferred = new DeferredReplies(options.store.sqlDialect);
    this.consumer = new MessageConsumer<H>({
      name: options.name,
      store: options.store,
      broker: options.broker,
      logger: options.logger ?? defaultLogger(),
      clock: this.clock,
      ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
      ...(options.instrumentation ? { instrumentation: options.instrumentation } : {}),
      ...(options.maxBatchSize ? { maxBatchSize: options.maxBatchSize } : {}),
    });
    this.sweeper = new RetentionSweeper({
      tasks: [this.retentionTask()],
      intervalMs: options.sweepIntervalMs ?? Math.min(this.retentionMs, 3_600_000),
      logger: this.logger,
      clock: this.clock,
    });
  }

  handle<C extends CommandDefinition>(command: C, handler: CommandHandler<H, C>): this {
    if (command.kind !== 'command') throw new InvalidArgumentError(`${command.type} is not a command (use defineCommand)`);
    const replies = Object.freeze({ ...replyBuilder(command.replies), later: () => DEFERRED }) as ParticipantReplies<RepliesOf<C>>;
    // A saga's command goes through the barrier, which answers a repeat with the recorded reply:
    // the inbox row would only repeat what the barrier row already says.
    this.consumer.handle(
      command,
      (tx, payload, message) => this.handleCommand(tx, command, message, (sub) => handler(sub, payload as PayloadOf<C>, replies, message)),
      { idempotent: isSagaCommand },
    );
    this.channels.add(command.channel);
    return this;
  }

  /** This participant's part of the waits-for graph, for the detectors of other services. */
  lockGraph(service: string): LockGraphSource {
    return lockGraphSource(service, this.options.store);
  }

  async start(): Promise<void> {
    // The orchestrator announces each saga's end on the channels it used: release its locks
    // here, and let its barrier rows start aging toward the purge (never before: a STUCK saga
    // retried late must still find what ran).
    for (const channel of this.channels) {
      // Idempotent: the finish note is an insert-if-absent, and a second release finds no locks.
      this.consumer.handle(
        sagaEndedMessage(channel),
        async (tx, ended) => {
          await this.barrier.finished(tx.sql, ended.sagaId, ended.status, this.clock.now());
          const released = await this.locks.releaseSaga(tx, ended.sagaId);
          if (released.length > 0) this.logger.debug({ sagaId: ended.sagaId, released }, 'semantic locks released: saga ended');
        },
        { idempotent: true },
      );
    }
    await this.consumer.start();
    const detection = this.options.deadlockDetection;
    if (detection) {
      this.detector = new DeadlockDetector({
        local: this.lockGraph(detection.service),
        peers: detection.peers,
        ...(detection.intervalMs ? { intervalMs: detection.intervalMs } : {}),
        breakWait: (victim, cycle) => this.breakWait(victim, cycle),
        logger: this.logger,
      });
      this.detector.start();
    }
    this.sweeper.start();
  }

  /** True between start() and stop() (for readiness checks). */
  isRunning(): boolean {
    return this.consumer.isRunning();
  }

  async stop(): Promise<void> {
    await this.sweeper.stop();
    await this.detector?.stop();
    await this.consumer.stop();
  }

  /** The barrier's retention as a task, for a shared RetentionSweeper (this participant also runs its own). */
  retentionTask(): RetentionTask {
    const unfinished = this.options.unfinishedRetentionMs ?? null;
    return {
      name: `saga-barrier:${this.options.name}`,
      sweep: async (now) => ({
        barrier: await this.options.store.read((exec) =>
          this.barrier.purge(exec, now - this.retentionMs, unfinished === null ? null : now - unfinished),
        ),
      }),
    };
  }

  /** Deletes barrier rows past their retention now (what the scheduled sweep does). */
  async sweep(): Promise<{ barrier: number }> {
    return (await this.retentionTask().sweep(this.clock.now())) as { barrier: number };
  }

  private async handleCommand<C extends CommandDefinition>(
    tx: Transaction<H>,
    command: C,
    message: MessageEnvelope,
    run: (tx: Transaction<H>) => HandlerOutcome<ReplySchemas> | Promise<HandlerOutcome<ReplySchemas>>,
  ): Promise<void> {
    const h = message.headers;
    const sagaId = h[MessageHeader.sagaId];
    const step = h[MessageHeader.sagaStep];
    const action = h[MessageHeader.sagaAction] as SagaAction | undefined;
    const replyChannel = h[MessageHeader.replyChannel];
    const attempt = Number(h[SAGA_ATTEMPT_HEADER] ?? '1') || 1;
    if (!sagaId || !step || (action !== 'invoke' && action !== 'compensate')) {
      // Not from a saga: no barrier; reply only if asked to.
      const outcome = await run(tx);
      if (isDeferredReply(outcome)) throw new InvalidArgumentError(`${command.type}: only a saga command can be answered later`);
      const token = await this.checked(command, outcome);
      if (replyChannel) await this.sendReply(tx, replyChannel, { sagaId: sagaId ?? message.id, step: step ?? '', action: 'invoke', attempt, reply: token.reply, body: token.payload });
      return;
    }
    const at = { sagaId, step, action, attempt, replyChannel };
    // The first attempt of an action claims its barrier row without waiting (where the store
    // pipelines statements): one round trip fewer per command. A claim that finds the row
    // taken (a duplicate, or an action its compensation blocked) voids this run, and the
    // transaction runs again with the claim made first, the way `enter` always does.
    const speculation = `barrier:${sagaId}:${step}:${barrierAction(action, attempt)}`;
    const claimed =
      action === 'invoke' && tx instanceof SqlStoreTransaction && tx.maySpeculate(speculation)
        ? this.barrier.claimLater(tx.sql, sagaId, step, attempt, this.clock.now())
        : undefined;
    if (!claimed) {
      await this.runAsDecided(tx, command, message, run, at, await this.barrier.enter(tx.sql, sagaId, step, action, attempt, this.clock.now()));
      return;
    }
    try {
      await this.runAsDecided(tx, command, message, run, at, { kind: 'run' });
    } catch (error) {
      // A claim whose answer cannot be read (the transaction is already failing) leaves the error as it is.
      if (!(await claimed().catch(() => true))) return (tx as SqlStoreTransaction<H>).abandonSpeculation(speculation);
      throw error;
    }
    if (!(await claimed())) (tx as SqlStoreTransaction<H>).abandonSpeculation(speculation);
  }

  /** Runs the command (or not) as the barrier decided, and sends the reply. */
  private async runAsDecided<C extends CommandDefinition>(
    tx: Transaction<H>,
    command: C,
    message: MessageEnvelope,
    run: (tx: Transaction<H>) => HandlerOutcome<ReplySchemas> | Promise<HandlerOutcome<ReplySchemas>>,
    at: { sagaId: string; step: string; action: SagaAction; attempt: number; replyChannel: string | undefined },
    decision: BarrierDecision,
  ): Promise<void> {
    const { sagaId, step, action, attempt, replyChannel } = at;
    let reply: string;
    let body: unknown;
    switch (decision.kind) {
      case 'blocked':
        this.logger.info({ sagaId, step, action, messageId: message.id }, 'command arrived after its compensation: not run');
        return;
      case 'deferred':
        return;
      case 'recorded':
        ({ reply, body } = decision);
        break;
      case 'null-compensation':
        reply = NULL_COMPENSATION_REPLY;
        body = {};
        await this.barrier.record(tx.sql, sagaId, step, action, attempt, reply, body);
        break;
      case 'run': {
        let outcome: HandlerOutcome<ReplySchemas>;
        try {
          // In a savepoint: a handler that must wait for a lock leaves no partial effect behind.
          outcome = await tx.savepoint((sub) => run(sub), { key: `command:${message.id}` });
        } catch (error) {
          if (error instanceof LockWaitRequired) {
            await this.barrier.forget(tx.sql, sagaId, step, barrierAction(action, attempt));
            await this.locks.park(tx, error.resource, message, barrierAction(action, attempt));
            this.logger.debug({ sagaId, step, resource: error.resource, heldBy: error.heldBy }, 'command waits for a semantic lock');
            return;
          }
          if (!(error instanceof ResourceLockedError)) throw error;
          outcome = { reply: RESOURCE_LOCKED_REPLY, payload: { resource: error.resource, heldBy: error.heldBy } };
        }
        if (isDeferredReply(outcome)) {
          await this.promise(tx, command, message, { sagaId, step, action, attempt, replyChannel });
          return;
        }
        const token = outcome.reply === RESOURCE_LOCKED_REPLY ? outcome : await this.checked(command, outcome);
        reply = token.reply;
        body = token.payload;
        if (reply === RESOURCE_LOCKED_REPLY && action === 'compensate') {
          // A compensation must run in the end: its retry (same barrier key) has to run again.
          await this.barrier.forget(tx.sql, sagaId, step, barrierAction(action, attempt));
        } else {
          await this.barrier.record(tx.sql, sagaId, step, action, attempt, reply, body);
        }
      }
    }
    if (replyChannel) {
      await this.sendReply(tx, replyChannel, { sagaId, step, action, attempt, reply, body, bodyVersion: replyVersionOf(command.replies[reply]) });
    }
  }

  private async promise(
    tx: Transaction<H>,
    command: CommandDefinition,
    message: MessageEnvelope,
    at: { sagaId: string; step: string; action: SagaAction; attempt: number; replyChannel: string | undefined },
  ): Promise<void> {
    if (!at.replyChannel) throw new InvalidArgumentError(`${command.type}: a command without a reply channel cannot be answered later`);
    await this.barrier.defer(tx.sql, at.sagaId, at.step, at.action, at.attempt);
    await this.deferred.record(tx.sql, {
      deferredId: deferredReplyId(message),
      sagaId: at.sagaId,
      step: at.step,
      action: at.action,
      attempt: at.attempt,
      commandType: command.type,
      replyChannel: at.replyChannel,
      createdAt: this.clock.now(),
    });
  }

  /**
   * Sends the reply a handler promised with `reply.later()`, through the outbox, in `tx` when
   * given. Refused when it was answered already or the saga started compensating the step
   * (it gave up waiting: its timeout passed).
   */
  async answer<C extends CommandDefinition>(
    command: C,
    deferredId: string,
    build: (reply: ReplyBuilder<RepliesOf<C>>) => ReplyToken<RepliesOf<C>>,
    options: { tx?: Transaction<H> } = {},
  ): Promise<void> {
    const run = async (tx: Transaction<H>) => {
      const pending = await this.deferred.take(tx.sql, deferredId, command.type, this.clock.now());
      if (await this.barrier.compensationStarted(tx.sql, pending.sagaId, pending.step)) {
        throw new IllegalStateError(`saga ${pending.sagaId} stopped waiting for ${deferredId}: it is compensating step ${pending.step}`);
      }
      const token = await this.checked(command, build(replyBuilder(command.replies) as ReplyBuilder<RepliesOf<C>>));
      await this.barrier.record(tx.sql, pending.sagaId, pending.step, pending.action, pending.attempt, token.reply, token.payload);
      await this.sendReply(tx, pending.replyChannel, { ...pending, reply: token.reply, body: token.payload });
    };
    if (options.tx) await run(options.tx);
    else await this.options.store.transaction(run);
  }

  /** The semantic locks held in this participant's database and the commands waiting for them (operator view). */
  lockTable(): Promise<{ locks: HeldLock[]; waits: Array<Omit<LockWait, 'envelope'> & { commandType: string }> }> {
    return this.options.store.read(async (exec) => ({
      locks: await this.locks.listLocks(exec),
      waits: (await this.locks.listWaits(exec)).map(({ envelope, ...wait }) => ({ ...wait, commandType: envelope.type })),
    }));
  }

  /** Replies promised and not sent yet, oldest first. */
  pendingReplies(limit?: number): Promise<PendingReply[]> {
    return this.options.store.read((exec) => this.deferred.pending(exec, limit));
  }

  private breakWait(victim: WaitEdge, cycle: WaitCycle): Promise<boolean> {
    return this.options.store.transaction((tx) =>
      failDeadlockVictim(tx, { locks: this.locks, barrier: this.barrier, now: this.clock.now() }, victim, cycle),
    );
  }

  private async checked(command: CommandDefinition, token: ReplyToken<ReplySchemas>): Promise<ReplyToken<ReplySchemas>> {
    const schema = token && command.replies[token.reply];
    if (!schema) {
      throw new InvalidArgumentError(`handler of ${command.type} returned ${JSON.stringify(token?.reply)}, not one of its declared replies`);
    }
    await validatePayload(schema, token.payload, `${command.type} reply ${token.reply}`, 'send');
    return token;
  }

  private async sendReply(
    tx: Transaction<H>,
    channel: string,
    payload: { sagaId: string; step: string; action: SagaAction; attempt: number; reply: string; body: unknown; bodyVersion?: number },
  ): Promise<void> {
    await tx.outbox.send(sagaReplyMessage(channel), payload);
  }
}

/** Carries what the barrier needs (saga id, step, a saga action): anything else is deduplicated by the inbox. */
function isSagaCommand(message: MessageEnvelope): boolean {
  const h = message.headers;
  const action = h[MessageHeader.sagaAction];
  return !!h[MessageHeader.sagaId] && !!h[MessageHeader.sagaStep] && (action === 'invoke' || action === 'compensate');
}
