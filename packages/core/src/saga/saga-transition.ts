import { backoffDelay, type BackoffPolicy } from '../consumer/backoff.js';
import { ConcurrencyConflictError } from '../errors.js';
import { MessageHeader } from '../message/envelope.js';
import type { SagaSignal } from '../ports/instrumentation.js';
import type { Transaction } from '../ports/store.js';
import type { SagaDefinition, StepDefinition } from './saga-definition.js';
import { FINAL_STATUSES, type SagaAction, type SagaHistoryEvent, type SagaInstance } from './saga-instance.js';
import { SAGA_ATTEMPT_HEADER } from './saga-messages.js';
import { SAGA_STARTED_AT_HEADER } from '../isolation/semantic-locks.js';
import { announceSagaEnd } from './saga-ended.js';
import type { SagaRepository } from './saga-repository.js';
import type { SagaBranches } from './saga-branches.js';
import { StepGroupRunner } from './step-group-runner.js';

export interface TransitionContext {
  readonly repository: SagaRepository;
  readonly branches: SagaBranches;
  readonly replyChannel: string;
  readonly maxAttempts: number;
  readonly backoff: BackoffPolicy;
  readonly now: number;
  /** Send `concord.SagaEnded` to the saga's command channels when it ends (releases semantic locks). */
  readonly announceEnds: boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Why a step failed, as recorded: a stable code when the error carries one. */
export function failureReason(error: unknown, fallback: string): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code) ? code : fallback;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * One local transaction's worth of progress for one saga: a draft of the instance that the
 * step logic moves forward or backward, plus the history it writes. `save` persists all of
 * it with an optimistic version check.
 */
export class SagaTransition<D = unknown> {
  readonly draft: Mutable<SagaInstance<D>>;
  private readonly history: Array<{ step: string | null; event: SagaHistoryEvent; detail: Record<string, unknown>; durationMs?: number }> = [];
  /** When the saga last changed before this transition: a remote step's command went out then. */
  private readonly previousUpdateAt: number;
  /** The stored instance's wake-up: only then is there a timer of the previous version to cancel. */
  readonly previousWakeAt: number | null;

  constructor(
    readonly ctx: TransitionContext,
    readonly tx: Transaction<unknown>,
    readonly definition: SagaDefinition<D>,
    instance: SagaInstance<D>,
  ) {
    this.draft = { ...instance };
    this.wasFinal = FINAL_STATUSES.has(instance.status);
    this.previousUpdateAt = instance.updatedAt;
    this.previousWakeAt = instance.wakeAt;
  }

  /** What this transition recorded, for instrumentation (after commit). */
  signals(): SagaSignal[] {
    const { sagaId, sagaType, status } = this.draft;
    return this.history.map((h) => ({ sagaId, sagaType, status, step: h.step, event: h.event, ...(h.durationMs !== undefined ? { durationMs: h.durationMs } : {}) }));
  }

  private readonly wasFinal: boolean;
  /** While a step group waits: its deadline, kept across the transitions of its replies. */
  groupDeadline: number | null = null;

  get step(): StepDefinition<D> | undefined {
    return this.definition.steps[this.draft.currentStep];
  }

  record(event: SagaHistoryEvent, detail: Record<string, unknown> = {}, step = this.step?.name ?? null): void {
    this.history.push({ step, event, detail });
  }

  isActive(): boolean {
    return this.draft.status === 'RUNNING' || this.draft.status === 'COMPENSATING';
  }

  /** Runs steps (or compensations) until the saga waits for a reply, a retry, or ends. */
  async advance(): Promise<void> {
    const d = this.draft;
    while (this.isActive() && d.waitingAction === null && d.wakeAt === null) {
      if (d.direction === 'forward') {
        const step = this.step;
        if (!step) {
          d.status = 'COMPLETED';
          this.record('COMPLETED', {}, null);
          return;
        }
        if (step.branches) {
          await new StepGroupRunner(this, step).forward();
          continue;
        }
        if (step.invoke) return this.sendCommand(step, 'invoke');
        const began = Date.now();
        try {
          const result = await this.tx.savepoint((sub) => step.local!(sub, d.data), { key: this.savepointKey(step.name, 'local') });
          if (result !== undefined) d.data = result;
        } catch (error) {
          await this.stepFailed(step, error, 'LOCAL_STEP_FAILED');
          continue;
        }
        this.stepDone({ local: true }, Date.now() - began);
      } else {
        const step = this.step;
        if (!step) {
          d.status = 'COMPENSATED';
          this.record('COMPENSATED', { reason: d.failureReason }, null);
          return;
        }
        if (step.branches) {
          await new StepGroupRunner(this, step).backward();
          continue;
        }
        const compensation = step.compensate;
        if (!compensation) {
          d.currentStep--;
          continue;
        }
        if (compensation.invoke) return this.sendCommand(step, 'compensate');
        const began = Date.now();
        try {
          await this.tx.savepoint((sub) => compensation.local!(sub, d.data, d.failureReason ?? 'UNKNOWN'), { key: this.savepointKey(step.name, 'compensate') });
        } catch (error) {
          this.retryOrStuck(step, error);
          return;
        }
        this.compensationDone({ local: true }, Date.now() - began);
      }
    }
  }

  /** `durationMs` defaults to the time since the step's command was sent (the last transition); null when a person acted. */
  stepDone(detail: Record<string, unknown>, durationMs: number | null = this.ctx.now - this.previousUpdateAt): void {
    this.history.push({ step: this.step?.name ?? null, event: 'STEP_DONE', detail, ...(durationMs !== null ? { durationMs } : {}) });
    this.draft.currentStep++;
    this.resetStep();
  }

  compensationDone(detail: Record<string, unknown>, durationMs: number | null = this.ctx.now - this.previousUpdateAt): void {
    this.history.push({ step: this.step?.name ?? null, event: 'COMPENSATION_DONE', detail, ...(durationMs !== null ? { durationMs } : {}) });
    this.draft.currentStep--;
    this.resetStep();
  }

  private resetStep(): void {
    Object.assign(this.draft, { stepAttempts: 0, waitingAction: null, waitingAttempt: null, wakeAt: null, lastError: null });
  }

  /** A forward step failed: retriable steps retry, others turn the saga around. */
  async stepFailed(step: StepDefinition<D>, error: unknown, fallbackReason: string, compensateFailedStep = false): Promise<void> {
    if (step.kind === 'retriable') {
      this.retryOrStuck(step, error);
      return;
    }
    const reason = failureReason(error, fallbackReason);
    this.record('STEP_FAILED', { reason, error: errorText(error) });
    Object.assign(this.draft, {
      direction: 'backward',
      status: 'COMPENSATING',
      failureReason: reason,
      lastError: errorText(error),
      currentStep: compensateFailedStep ? this.draft.currentStep : this.draft.currentStep - 1,
      stepAttempts: 0,
      waitingAction: null,
      waitingAttempt: null,
      wakeAt: null,
    });
  }

  /** Counts a failed attempt; schedules the next after a backoff delay, or parks the saga as STUCK. */
  retryOrStuck(step: StepDefinition<D>, error: unknown): void {
    const d = this.draft;
    const attempts = d.stepAttempts + 1;
    d.stepAttempts = attempts;
    d.lastError = errorText(error);
    d.waitingAction = null;
    if (attempts >= this.ctx.maxAttempts) {
      d.status = 'STUCK';
      d.wakeAt = null;
      this.record('STUCK', { attempts, error: d.lastError, direction: d.direction }, step.name);
      return;
    }
    d.wakeAt = this.ctx.now + backoffDelay(this.ctx.backoff, attempts);
    this.record('RETRY_SCHEDULED', { attempts, error: d.lastError, at: d.wakeAt }, step.name);
  }

  /** Sends the step's command (or its compensation's) through the outbox and waits for the reply. */
  async sendCommand(step: StepDefinition<D>, action: SagaAction): Promise<void> {
    const d = this.draft;
    const invocation = action === 'invoke' ? step.invoke! : step.compensate!.invoke!;
    const attempt = d.waitingAttempt ?? 1;
    const command = invocation.command;
    const envelope = await this.tx.outbox.send(command, invocation.build(d.data) as never, {
      ...(command.partitionKey ? {} : { partitionKey: d.sagaId }),
      headers: {
        [MessageHeader.sagaId]: d.sagaId,
        [MessageHeader.sagaType]: d.sagaType,
        [MessageHeader.sagaStep]: step.name,
        [MessageHeader.sagaAction]: action,
        [MessageHeader.replyChannel]: this.ctx.replyChannel,
        [MessageHeader.idempotencyKey]: `${d.sagaId}:${step.name}:${action}${attempt > 1 ? `#${attempt}` : ''}`,
        [SAGA_ATTEMPT_HEADER]: String(attempt),
        [SAGA_STARTED_AT_HEADER]: String(d.createdAt),
      },
    });
    const compensation = step.compensate;
    const timeoutMs = action === 'invoke' ? step.timeoutMs : compensation?.invoke ? compensation.timeoutMs : undefined;
    Object.assign(d, {
      waitingAction: action,
      waitingAttempt: attempt,
      wakeAt: timeoutMs ? this.ctx.now + timeoutMs : null,
    });
    this.record('COMMAND_SENT', { command: command.type, messageId: envelope.id, action, attempt });
  }

  /** Names a savepoint of this transition the same on every run of its transaction (see SavepointOptions.key). */
  savepointKey(...parts: string[]): string {
    return ['saga', this.draft.sagaId, String(this.draft.version), ...parts].join(':');
  }

  /**
   * Writes the draft as the next version. A new saga is inserted, checked at once, or with
   * `unchecked` queued: the caller guessed that no row exists, and a row that does fails the
   * transaction.
   */
  async save(isNew: boolean, unchecked = false): Promise<void> {
    const d = this.draft;
    d.updatedAt = this.ctx.now;
    if (isNew && unchecked) {
      d.version = 1;
      await this.ctx.repository.insertLater(this.tx.sql, d);
    } else if (isNew) {
      d.version = 1;
      if (!(await this.ctx.repository.insert(this.tx.sql, d))) {
        throw new ConcurrencyConflictError(`saga ${d.sagaId} was started concurrently`);
      }
    } else {
      d.version++;
      await this.ctx.repository.update(this.tx.sql, d);
    }
    await this.ctx.repository.appendHistory(this.tx.sql, d.sagaId, this.ctx.now, this.history);
    if (!this.wasFinal && FINAL_STATUSES.has(d.status)) {
      if (this.ctx.announceEnds) await announceSagaEnd(this.tx, this.definition as SagaDefinition<unknown>, d);
      if (this.definition.steps.some((s) => s.branches)) await this.ctx.branches.clearSaga(this.tx.sql, d.sagaId);
    }
  }
}
