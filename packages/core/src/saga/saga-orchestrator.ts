import { defaultBackoff, type BackoffPolicy } from '../consumer/backoff.js';
import { MessageConsumer } from '../consumer/message-consumer.js';
import { IllegalStateError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { newId } from '../ids.js';
import { defaultLogger } from '../logging.js';
import type { MessageEnvelope } from '../message/envelope.js';
import { assertName } from '../message/message-definition.js';
import type { Broker } from '../ports/broker.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Transaction } from '../ports/store.js';
import { validatePayload } from '../schema.js';
import { SqlStoreTransaction } from '../sql/sql-store.js';
import type { SqlExecutor } from '../sql/sql-driver.js';
import { DurableTimers } from '../timers/durable-timers.js';
import type { AnySagaDefinition, SagaDefinitionFor, SagaInputOf, SagaNamed } from './saga-definition.js';
import type { SagaInstance, SagaInstanceOf, SagaView, SagaViewOf } from './saga-instance.js';
import { upcastReplyBody } from './reply-versions.js';
import { sagaReplyMessage, type SagaReplyPayload } from './saga-messages.js';
import { SagaRepository, type SagaListFilter } from './saga-repository.js';
import { SagaTransition } from './saga-transition.js';
import { applyIsolationReply, isIsolationReply } from './isolation-replies.js';
import { SagaBranches } from './saga-branches.js';
import { applyGroupReply, StepGroupRunner } from './step-group-runner.js';
import type { Instrumentation } from '../ports/instrumentation.js';
import { requireStuck } from './manual-action-guard.js';
import type { RetentionTask } from '../retention/retention-sweeper.js';
import { SagaVersionNotRegisteredError, SagaVersionRegistry } from './saga-versions.js';
import { assertInFlightVersionsRegistered } from './saga-version-check.js';
import type { SagaStore } from './saga-store.js';

export interface SagaOrchestratorOptions<
  H,
  S extends SagaDefinitionFor<H> = SagaDefinitionFor<H>,
  P extends SagaDefinitionFor<H> = SagaDefinitionFor<H>,
> {
  /** Names the reply channel and the reply consumer; stable across restarts. */
  readonly name: string;
  readonly store: SagaStore<H>;
  readonly broker: Broker;
  /**
   * The sagas this orchestrator runs: the one place they are registered. `begin` takes their
   * names; a saga whose steps need another store's transaction does not compile here.
   */
  readonly sagas: readonly S[];
  /**
   * Older definitions of the same saga types, kept so the instances that started on them finish
   * on them (a deployment that changed a saga's steps). New sagas always run on `sagas`.
   */
  readonly previousVersions?: readonly P[];
  /** Default `<name>.saga-replies`. */
  readonly replyChannel?: string;
  /** Attempts of a retriable step or a compensation before the saga is STUCK. Default 5. */
  readonly maxAttempts?: number;
  readonly backoff?: BackoffPolicy;
  /** Longest wait before due retries and reply deadlines (durable timers) set by other processes are seen. Default 100 ms. */
  readonly schedulerIntervalMs?: number;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Tell participants when a saga ends, so they release its semantic locks. Default true. */
  readonly announceEnds?: boolean;
  /** Told about every committed transition and the reply consumer's batches (metrics, tracing). */
  readonly instrumentation?: Instrumentation;
}

export interface ManualActionOptions {
  /** Who acted, for the record (a user name, a ticket). */
  readonly actor?: string;
  readonly note?: string;
}

/**
 * Runs orchestrated sagas: persists each instance in the service's own database, sends step
 * commands through the outbox, consumes replies, retries, times out, compensates, and parks
 * what cannot finish as STUCK for a person. Every transition (state, outgoing commands, the
 * consumed reply's id) commits in one local transaction with optimistic versioning.
 */
export class SagaOrchestrator<
  H = unknown,
  S extends SagaDefinitionFor<H> = SagaDefinitionFor<H>,
  P extends SagaDefinitionFor<H> = SagaDefinitionFor<H>,
> {
  readonly replyChannel: string;
  private readonly sagas: SagaVersionRegistry;
  private readonly repository: SagaRepository;
  /** Sagas read ahead for a batch of replies, by the transaction's executor (see prefetch). */
  private readonly prefetched = new WeakMap<SqlExecutor, Map<string, SagaInstance>>();
  private readonly branches: SagaBranches;
  private readonly consumer: MessageConsumer<H>;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly maxAttempts: number;
  private readonly backoff: BackoffPolicy;
  private readonly listeners = new Set<(instance: SagaInstanceOf<S | P>) => void>();
  /** Retries and reply deadlines are durable timers: fired once across all instances. */
  private readonly timers: DurableTimers<H>;
  private readonly wakeKind: string;

  constructor(private readonly options: SagaOrchestratorOptions<H, S, P>) {
    assertName('orchestrator name', options.name);
    this.replyChannel = options.replyChannel ?? `${options.name}.saga-replies`;
    this.sagas = new SagaVersionRegistry(options.sagas, options.previousVersions ?? []);
    this.repository = new SagaRepository(options.store.sqlDialect);
    this.branches = new SagaBranches(options.store.sqlDialect);
    this.logger = (options.logger ?? defaultLogger()).child({ component: 'saga-orchestrator', orchestrator: options.name });
    this.clock = options.clock ?? systemClock;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.backoff = options.backoff ?? defaultBackoff;
    this.consumer = new MessageConsumer<H>({
      name: `${options.name}.saga-orchestrator`,
      store: options.store,
      broker: options.broker,
      logger: options.logger ?? defaultLogger(),
      clock: this.clock,
      maxAttempts: 10,
      ...(options.instrumentation ? { instrumentation: options.instrumentation } : {}),
    }).handle(sagaReplyMessage(this.replyChannel), (tx, reply, message) => this.handleReply(tx, reply, message), {
      // A reply counts only while its saga waits for exactly it (checked under the row's lock):
      // a repeat finds the saga moved on and is ignored, so no inbox row is needed.
      idempotent: true,
      prepare: (tx, messages) => this.prefetch(tx, messages),
    });
    this.wakeKind = `concord.saga.wake:${options.name}`;
    this.timers = new DurableTimers<H>({
      store: options.store,
      clock: this.clock,
      logger: options.logger ?? defaultLogger(),
      pollIntervalMs: options.schedulerIntervalMs ?? 100,
    }).handle<{ sagaId: string; version: number }>(this.wakeKind, (tx, timer) => this.wake(tx, timer.payload));
  }

  /** Refuses (SagaVersionNotRegisteredError, nothing consumed) while unfinished sagas are on a version it does not have. */
  async start(): Promise<void> {
    await this.options.store.read((exec) =>
      assertInFlightVersionsRegistered(exec, this.options.store.sqlDialect, this.options.name, this.sagas),
    );
    await this.consumer.start();
    await this.scheduleWakes();
    this.timers.start();
  }

  /** True between start() and stop(): replies are consumed and the scheduler runs (for readiness checks). */
  isRunning(): boolean {
    return this.timers.isRunning() && this.consumer.isRunning();
  }

  async stop(): Promise<void> {
    await this.timers.stop();
    await this.consumer.stop();
  }

  /** The durable timer of a saga waiting at `version`; ids are per version, so each wait has its own. */
  private wakeTimerId(sagaId: string, version: number): string {
    return `saga:${this.options.name}:${sagaId}:${version}`;
  }

  /** Timers for waiting sagas that have none (sagas saved before timers existed); idempotent by id. */
  private async scheduleWakes(): Promise<void> {
    await this.options.store.transaction(async (tx) => {
      for (const w of await this.repository.waiting(tx.sql)) {
        await this.timers.schedule(tx, { id: this.wakeTimerId(w.sagaId, w.version), kind: this.wakeKind, at: w.wakeAt, payload: w });
      }
    });
  }

  /**
   * Called after each committed transition, with the instance as committed: one of this
   * orchestrator's sagas, its data and failure reason typed (narrow on `sagaType`).
   */
  onChange(listener: (instance: SagaInstanceOf<S | P>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Starts the registered saga named `sagaType`: validates its data, runs its first local steps
   * and sends its first command, all in `tx` when given (so the saga starts atomically with the
   * caller's own writes) or in a new transaction. With a caller-assigned `sagaId`, starting the
   * same saga again is a no-op. A name that is not registered does not compile.
   */
  async begin<N extends S['name']>(
    sagaType: N,
    data: SagaInputOf<S, N>,
    options: { sagaId?: string; tx?: Transaction<H> } = {},
  ): Promise<string> {
    const definition = this.sagas.newest(sagaType);
    if (!definition) throw new InvalidArgumentError(`saga ${sagaType} is not registered with orchestrator ${this.options.name}`);
    const parsed = await validatePayload(definition.schema, data, `saga ${sagaType}`, 'send');
    const sagaId = options.sagaId ?? newId();
    const run = async (tx: Transaction<H>) => {
      // A new id has no row yet, nearly always: guessed so (where the store can learn from a
      // failed insert that the guess was wrong), the saga is not looked for first and its row
      // is inserted without waiting, two round trips fewer. A wrong guess runs the transaction
      // again, which then looks first (decision 044).
      const guessed = tx instanceof SqlStoreTransaction && tx.guessAbsent(`saga-begin:${sagaId}`, this.repository.instances);
      const existing = guessed ? undefined : await this.repository.load(tx.sql, sagaId);
      if (existing) {
        if (existing.sagaType !== sagaType) {
          throw new IllegalStateError(`saga id ${sagaId} already belongs to a ${existing.sagaType} saga`);
        }
        return;
      }
      const now = this.clock.now();
      const t = this.transition(tx, definition, {
        sagaId,
        sagaType,
        definitionVersion: definition.version,
        data: parsed,
        status: 'RUNNING',
        direction: 'forward',
        currentStep: 0,
        stepAttempts: 0,
        waitingAction: null,
        waitingAttempt: null,
        wakeAt: null,
        failureReason: null,
        lastError: null,
        version: 0,
        createdAt: now,
        updatedAt: now,
      });
      t.record('STARTED', {}, null);
      await t.advance();
      await this.save(tx, t, true, guessed);
    };
    const begin = async () => {
      if (options.tx) await run(options.tx);
      else await this.options.store.transaction(run);
    };
    // The saga's trace starts here: its first commands (and events) carry this span's context.
    const inSpan = this.options.instrumentation?.inSpan;
    if (inSpan) {
      await inSpan.call(this.options.instrumentation, { name: `saga ${sagaType}`, kind: 'internal', attributes: { 'concord.saga.id': sagaId, 'concord.saga.type': sagaType } }, begin);
    } else {
      await begin();
    }
    return sagaId;
  }

  /**
   * A saga and its history. Given its `sagaType`, the view is typed as that registered saga's
   * (data, failure reasons), and a saga of another type is not returned.
   */
  get<N extends S['name']>(sagaId: string, sagaType: N): Promise<SagaViewOf<SagaNamed<S | P, N>> | undefined>;
  get(sagaId: string): Promise<SagaView | undefined>;
  async get(sagaId: string, sagaType?: string): Promise<SagaView | undefined> {
    return this.options.store.read(async (exec) => {
      const instance = await this.repository.load(exec, sagaId);
      if (!instance || (sagaType !== undefined && instance.sagaType !== sagaType)) return undefined;
      return { ...instance, history: await this.repository.history(exec, sagaId) };
    });
  }

  /** Sagas, newest first; filtered on a registered `sagaType`, typed as that saga's instances. */
  list<N extends S['name']>(filter: SagaListFilter & { readonly sagaType: N }): Promise<SagaInstanceOf<SagaNamed<S | P, N>>[]>;
  list(filter?: SagaListFilter): Promise<SagaInstance[]>;
  list(filter: SagaListFilter = {}): Promise<SagaInstance[]> {
    return this.options.store.read((exec) => this.repository.list(exec, filter));
  }

  /**
   * Retention of this orchestrator's sagas, for a RetentionSweeper: sagas finished (COMPLETED,
   * COMPENSATED, ABORTED) more than `finishedSagasMs` ago (default 30 days) go with their
   * history; STUCK and running sagas are never removed. `null` keeps every saga.
   */
  retentionTask(policy: { readonly finishedSagasMs?: number | null } = {}): RetentionTask {
    const keepMs = policy.finishedSagasMs === undefined ? 30 * 24 * 3_600_000 : policy.finishedSagasMs;
    return {
      name: `sagas:${this.options.name}`,
      sweep: async (now): Promise<Record<string, number>> =>
        keepMs === null
          ? {}
          : { sagas: await this.options.store.transaction((tx) => this.repository.purgeFinished(tx.sql, now - keepMs)) },
    };
  }

  countByStatus(): Promise<Record<string, number>> {
    return this.options.store.read((exec) => this.repository.countByStatus(exec));
  }

  /** Runs the current step (or compensation) of a STUCK saga again, from a fresh attempt count. */
  retry(sagaId: string, options: ManualActionOptions = {}): Promise<SagaInstance> {
    return this.manual(sagaId, async (t) => {
      requireStuck(t.draft, 'retry');
      t.record('MANUAL_RETRY', { actor: options.actor ?? null, note: options.note ?? null });
      Object.assign(t.draft, {
        status: t.draft.direction === 'forward' ? 'RUNNING' : 'COMPENSATING',
        stepAttempts: 0,
        waitingAction: null,
        wakeAt: null,
      });
      await t.advance();
    });
  }

  /**
   * Records, on a person's word, that the current step was done (going forward) or compensated
   * (going backward) outside Concord, and lets the saga go on from there. A note is required.
   */
  resolve(
    sagaId: string,
    options: ManualActionOptions & { step: string; as: 'done' | 'compensated'; note: string },
  ): Promise<SagaInstance> {
    return this.manual(sagaId, async (t) => {
      if (!options.note?.trim()) throw new InvalidArgumentError('resolve: a note saying what was done is required');
      requireStuck(t.draft, 'resolve');
      const current = t.step;
      if (!current || current.name !== options.step) {
        throw new IllegalStateError(`saga ${sagaId} is at step ${current?.name ?? '(none)'}, not ${options.step}`);
      }
      const expected = t.draft.direction === 'forward' ? 'done' : 'compensated';
      if (options.as !== expected) {
        throw new IllegalStateError(
          `saga ${sagaId} is going ${t.draft.direction}: step ${options.step} can only be resolved as ${expected}`,
        );
      }
      t.record('MANUAL_RESOLVE', { as: options.as, actor: options.actor ?? null, note: options.note });
      t.draft.status = t.draft.direction === 'forward' ? 'RUNNING' : 'COMPENSATING';
      if (options.as === 'done') t.stepDone({ manual: true }, null);
      else t.compensationDone({ manual: true }, null);
      await t.advance();
    });
  }

  /**
   * Stops a STUCK saga where it is, for good: a person takes over what it left (its history
   * says which steps ran and which were compensated). A note is required.
   */
  abort(sagaId: string, options: ManualActionOptions & { note: string }): Promise<SagaInstance> {
    return this.manual(sagaId, async (t) => {
      if (!options.note?.trim()) throw new InvalidArgumentError('abort: a note saying why is required');
      requireStuck(t.draft, 'abort');
      t.record('ABORTED', { actor: options.actor ?? null, note: options.note });
      Object.assign(t.draft, { status: 'ABORTED', waitingAction: null, wakeAt: null });
    });
  }

  private async manual(sagaId: string, act: (t: SagaTransition) => Promise<void>): Promise<SagaInstance> {
    return this.options.store.transaction(async (tx) => {
      const instance = await this.repository.load(tx.sql, sagaId, true);
      if (!instance) throw new NotFoundError('saga', sagaId);
      const t = this.transition(tx, this.definitionOf(instance), instance);
      await act(t);
      await this.save(tx, t, false);
      return t.draft;
    });
  }

  /** The definition the instance started on: never another one, whose steps would not match. */
  private definitionOf(instance: SagaInstance): AnySagaDefinition {
    const definition = this.sagas.resolve(instance.sagaType, instance.definitionVersion);
    if (definition) return definition;
    if (!this.sagas.types().includes(instance.sagaType)) {
      throw new IllegalStateError(`saga type ${instance.sagaType} is not registered with orchestrator ${this.options.name}`);
    }
    throw new SagaVersionNotRegisteredError(this.options.name, [
      { sagaType: instance.sagaType, version: instance.definitionVersion ?? null, count: 1, sagaIds: [instance.sagaId] },
    ]);
  }

  private transition(tx: Transaction<H>, definition: AnySagaDefinition, instance: SagaInstance): SagaTransition {
    return new SagaTransition(
      {
        repository: this.repository,
        branches: this.branches,
        replyChannel: this.replyChannel,
        maxAttempts: this.maxAttempts,
        backoff: this.backoff,
        now: this.clock.now(),
        announceEnds: this.options.announceEnds ?? true,
      },
      tx,
      definition,
      instance,
    );
  }

  private async save(tx: Transaction<H>, t: SagaTransition, isNew: boolean, unchecked = false): Promise<void> {
    await t.save(isNew, unchecked);
    const committed = { ...t.draft };
    // The previous version's wait (if any) is over; the new one's timer commits with the state.
    if (!isNew && t.previousWakeAt !== null) await this.timers.cancel(tx, this.wakeTimerId(committed.sagaId, committed.version - 1));
    if (committed.wakeAt !== null) {
      await this.timers.schedule(tx, {
        id: this.wakeTimerId(committed.sagaId, committed.version),
        kind: this.wakeKind,
        at: committed.wakeAt,
        payload: { sagaId: committed.sagaId, version: committed.version },
      });
    }
    const instrumentation = this.options.instrumentation;
    const signals = instrumentation?.sagaTransition ? t.signals() : undefined;
    tx.afterCommit(() => {
      if (signals) instrumentation!.sagaTransition!(signals);
      // Every transition here runs a registered definition (S or P), whose types the instance has.
      for (const listener of this.listeners) listener(committed as SagaInstanceOf<S | P>);
    });
  }

  /**
   * Locks and reads the sagas a batch of replies is for, all at once where the store pipelines
   * statements: their reads go out together and cost one round trip, instead of one each as
   * the replies are handled one after another. One statement per saga, not one `IN` list:
   * a cached generic plan made while the table was young would scan the whole table.
   * Taken once: a second reply for the same saga in the batch reads the row this transaction
   * changed.
   */
  private async prefetch(tx: Transaction<unknown>, messages: readonly MessageEnvelope[]): Promise<void> {
    if (!this.options.store.capabilities.pipelinesStatements) return;
    const ids = [...new Set(messages.map((m) => (m.payload as { sagaId?: unknown } | null)?.sagaId).filter((id): id is string => typeof id === 'string'))];
    if (ids.length < 2) return;
    const loaded = new Map<string, SagaInstance>();
    for (const instance of await Promise.all(ids.map((id) => this.repository.load(tx.sql, id, true)))) {
      if (instance) loaded.set(instance.sagaId, instance);
    }
    this.prefetched.set(tx.sql, loaded);
  }

  /** The saga, locked: from this transaction's prefetch when there, else read now. */
  private async loadForUpdate(tx: Transaction<H>, sagaId: string): Promise<SagaInstance | undefined> {
    const prefetched = this.prefetched.get(tx.sql);
    const instance = prefetched?.get(sagaId);
    if (instance) {
      prefetched!.delete(sagaId);
      return instance;
    }
    return this.repository.load(tx.sql, sagaId, true);
  }

  private async handleReply(tx: Transaction<H>, reply: SagaReplyPayload, message: MessageEnvelope): Promise<void> {
    const instance = await this.loadForUpdate(tx, reply.sagaId);
    if (!instance) {
      this.logger.warn({ sagaId: reply.sagaId, messageId: message.id }, 'reply for an unknown saga ignored');
      return;
    }
    const definition = this.definitionOf(instance);
    const t = this.transition(tx, definition, instance);
    const step = t.step;
    if (step?.branches) {
      if (await applyGroupReply(t, reply, message.id)) await this.save(tx, t, false);
      else this.logger.debug({ sagaId: reply.sagaId, messageId: message.id, reply: reply.reply }, 'stale or duplicate branch reply ignored');
      return;
    }
    if (
      !t.isActive() ||
      instance.waitingAction !== reply.action ||
      step?.name !== reply.step ||
      (instance.waitingAttempt ?? 1) !== reply.attempt
    ) {
      this.logger.debug({ sagaId: reply.sagaId, messageId: message.id, reply: reply.reply }, 'stale or duplicate reply ignored');
      return;
    }
    t.record('REPLY', { reply: reply.reply, messageId: message.id, action: reply.action });
    Object.assign(t.draft, { waitingAction: null, wakeAt: null });
    if (isIsolationReply(reply.reply)) {
      await applyIsolationReply(t, reply);
    } else if (reply.action === 'compensate') {
      t.compensationDone({ reply: reply.reply });
    } else {
      await this.applyInvokeReply(t, reply);
    }
    await t.advance();
    await this.save(tx, t, false);
  }

  private async applyInvokeReply(t: SagaTransition, reply: SagaReplyPayload): Promise<void> {
    const step = t.step!;
    const command = step.invoke!.command;
    const schema = command.replies[reply.reply];
    if (!schema) {
      await t.stepFailed(step, new Error(`${command.type} has no reply named ${reply.reply}`), 'UNKNOWN_REPLY');
      return;
    }
    // Throws for a body newer than this code knows: retried, then parked with the reason.
    const current = upcastReplyBody(`${command.type} reply ${reply.reply}`, schema, reply.body, reply.bodyVersion);
    let body: unknown;
    try {
      body = await validatePayload(schema, current, `${command.type} reply ${reply.reply}`, 'receive');
    } catch (error) {
      await t.stepFailed(step, error, 'INVALID_REPLY');
      return;
    }
    const action = step.onReply?.[reply.reply];
    if (action && typeof action === 'object' && action.kind === 'fail') {
      if (step.kind === 'retriable') t.draft.waitingAttempt = (t.draft.waitingAttempt ?? 1) + 1;
      await t.stepFailed(step, Object.assign(new Error(`${command.type} replied ${reply.reply}`), { code: action.reason }), action.reason);
      return;
    }
    if (typeof action === 'function') {
      try {
        const data = await t.tx.savepoint((sub) => action(sub, t.draft.data, body), { key: t.savepointKey(step.name, 'reply', reply.reply) });
        if (data !== undefined) t.draft.data = data;
      } catch (error) {
        await t.stepFailed(step, error, 'REPLY_HANDLER_FAILED');
        return;
      }
    }
    t.stepDone({ reply: reply.reply });
  }

  /** A saga's timer fired (in `tx`): a retry is due, or a reply did not come in time. */
  private async wake(tx: Transaction<H>, due: { sagaId: string; version: number }): Promise<void> {
    const instance = await this.repository.load(tx.sql, due.sagaId, true);
    // A transition since the timer was set (a reply, a manual action) ended that wait.
    if (!instance || instance.version !== due.version || instance.wakeAt === null) return;
    const t = this.transition(tx, this.definitionOf(instance), instance);
    if (!t.isActive()) {
      t.draft.wakeAt = null;
    } else if (instance.waitingAction === null) {
      t.draft.wakeAt = null;
      await t.advance();
    } else {
      await this.onReplyTimeout(t, instance);
      await t.advance();
    }
    await this.save(tx, t, false);
  }

  private async onReplyTimeout(t: SagaTransition, instance: SagaInstance): Promise<void> {
    const step = t.step!;
    if (step.branches) return new StepGroupRunner(t, step).timeout();
    t.record('TIMEOUT', { action: instance.waitingAction, attempt: instance.waitingAttempt });
    const error = Object.assign(new Error(`no reply to ${instance.waitingAction} of step ${step.name} in time`), { code: 'TIMEOUT' });
    if (instance.waitingAction === 'invoke' && step.kind === 'compensatable') {
      // The command may have run: compensate this step too. If it never ran, the participant's
      // barrier turns the compensation into a no-op and blocks the late command.
      await t.stepFailed(step, error, 'TIMEOUT', true);
      return;
    }
    // A pivot, a retriable step or a compensation: ask again with the same idempotency key.
    t.retryOrStuck(step, error);
  }
}
