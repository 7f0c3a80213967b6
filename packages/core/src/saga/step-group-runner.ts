import { validatePayload } from '../schema.js';
import type { StepDefinition } from './saga-definition.js';
import type { BranchStatus } from './saga-branches.js';
import { DEADLOCK_REPLY, type SagaReplyPayload } from './saga-messages.js';
import { isIsolationReply } from './isolation-replies.js';
import { errorText, failureReason, type SagaTransition } from './saga-transition.js';

/**
 * Runs a parallel step group inside a saga transition. The saga row stays on the group while
 * any branch is out (`waitingAction` set, `wakeAt` the group's deadline); each branch's state
 * lives in `saga_branches`, written in the same local transaction as the saga row, which the
 * reply handler holds locked, so replies of two branches are applied one after the other.
 */
export class StepGroupRunner<D> {
  private states = new Map<string, BranchStatus>();

  constructor(
    private readonly t: SagaTransition<D>,
    private readonly group: StepDefinition<D>,
  ) {}

  private get branches(): readonly StepDefinition<D>[] {
    return this.group.branches ?? [];
  }

  private async load(): Promise<void> {
    this.states = await this.t.ctx.branches.load(this.t.tx.sql, this.t.draft.sagaId, this.group.name);
  }

  private async set(branch: StepDefinition<D>, status: BranchStatus): Promise<void> {
    const isNew = !this.states.has(branch.name);
    this.states.set(branch.name, status);
    await this.t.ctx.branches.set(
      this.t.tx.sql,
      this.t.draft.sagaId,
      this.group.name,
      branch.name,
      branch.index,
      status,
      this.t.ctx.now,
      isNew,
    );
  }

  private count(status: BranchStatus): number {
    return [...this.states.values()].filter((s) => s === status).length;
  }

  /** Going forward: starts the branches on first entry, then joins or turns the saga back. */
  async forward(): Promise<void> {
    await this.load();
    if (this.states.size === 0) await this.startAll();
    if (this.count('failed') > 0) return this.backward();
    if (this.count('waiting') > 0) return this.wait('invoke');
    this.t.stepDone({ branches: this.branches.length });
  }

  private async startAll(): Promise<void> {
    const d = this.t.draft;
    for (const branch of this.branches) {
      if (branch.invoke) {
        await this.t.sendCommand(branch, 'invoke');
        await this.set(branch, 'waiting');
        continue;
      }
      try {
        const result = await this.t.tx.savepoint((sub) => branch.local!(sub, d.data), { key: this.t.savepointKey(this.group.name, branch.name, 'local') });
        if (result !== undefined) d.data = result;
        await this.done(branch, { local: true });
      } catch (error) {
        await this.failed(branch, error, 'LOCAL_STEP_FAILED');
      }
    }
    this.t.groupDeadline = this.group.timeoutMs ? this.t.ctx.now + this.group.timeoutMs : null;
  }

  /** Going backward: waits for branches still out, then compensates those that succeeded. */
  async backward(): Promise<void> {
    const d = this.t.draft;
    if (d.direction === 'forward') this.turnBack();
    await this.load();
    if (this.count('waiting') > 0) return this.wait('invoke');
    for (const branch of this.branches) {
      if (this.states.get(branch.name) !== 'done') continue;
      const compensation = branch.compensate;
      if (compensation?.invoke) {
        await this.t.sendCommand(branch, 'compensate');
        await this.set(branch, 'compensating');
      } else if (compensation?.local) {
        try {
          await this.t.tx.savepoint((sub) => compensation.local!(sub, d.data, d.failureReason ?? 'UNKNOWN'), {
            key: this.t.savepointKey(this.group.name, branch.name, 'compensate'),
          });
        } catch (error) {
          this.t.retryOrStuck(this.group, error);
          return;
        }
        await this.compensated(branch, { local: true });
      } else {
        await this.set(branch, 'compensated');
      }
    }
    if (this.count('compensating') > 0) return this.wait('compensate');
    await this.t.ctx.branches.clear(this.t.tx.sql, d.sagaId, this.group.name);
    this.t.compensationDone({ branches: this.branches.length });
  }

  /** The saga turns back at the group itself: its succeeded branches are compensated first. */
  private turnBack(): void {
    const d = this.t.draft;
    Object.assign(d, { direction: 'backward', status: 'COMPENSATING', stepAttempts: 0 });
  }

  private wait(action: 'invoke' | 'compensate'): void {
    const d = this.t.draft;
    d.waitingAction = action;
    d.wakeAt = this.t.groupDeadline ?? (this.group.timeoutMs ? this.t.ctx.now + this.group.timeoutMs : null);
  }

  /** A branch's reply; false when it is stale (the branch is not waiting for it). */
  async reply(reply: SagaReplyPayload): Promise<boolean> {
    const branch = this.branches.find((b) => b.name === reply.step);
    if (!branch) return false;
    await this.load();
    const status = this.states.get(branch.name);
    if (reply.action === 'compensate') {
      if (status !== 'compensating') return false;
      if (isIsolationReply(reply.reply)) {
        this.t.retryOrStuck(this.group, new Error(`compensation of ${branch.name} refused: ${reply.reply}`));
        return true;
      }
      await this.compensated(branch, { reply: reply.reply });
      return true;
    }
    if (status !== 'waiting') return false;
    if (isIsolationReply(reply.reply)) {
      const code = reply.reply === DEADLOCK_REPLY ? 'DEADLOCK' : 'RESOURCE_LOCKED';
      if (code === 'DEADLOCK')
        this.t.record('DEADLOCK', { branch: branch.name, ...(reply.body as object) }, this.group.name);
      await this.failed(branch, Object.assign(new Error(`${branch.name}: ${reply.reply}`), { code }), code);
      return true;
    }
    const command = branch.invoke!.command;
    const schema = command.replies[reply.reply];
    if (!schema) {
      await this.failed(
        branch,
        new Error(`${command.type} has no reply named ${reply.reply}`),
        'UNKNOWN_REPLY',
      );
      return true;
    }
    let body: unknown;
    try {
      body = await validatePayload(schema, reply.body, `${command.type} reply ${reply.reply}`, 'receive');
    } catch (error) {
      await this.failed(branch, error, 'INVALID_REPLY');
      return true;
    }
    const action = branch.onReply?.[reply.reply];
    if (action && typeof action === 'object' && action.kind === 'fail') {
      await this.failed(
        branch,
        Object.assign(new Error(`${command.type} replied ${reply.reply}`), { code: action.reason }),
        action.reason,
      );
      return true;
    }
    if (typeof action === 'function') {
      try {
        const data = await this.t.tx.savepoint((sub) => action(sub, this.t.draft.data, body), {
          key: this.t.savepointKey(this.group.name, branch.name, 'reply', reply.reply),
        });
        if (data !== undefined) this.t.draft.data = data;
      } catch (error) {
        await this.failed(branch, error, 'REPLY_HANDLER_FAILED');
        return true;
      }
    }
    await this.done(branch, { reply: reply.reply });
    return true;
  }

  /**
   * The group's deadline passed. Branches still out may have run: they count as done, so the
   * saga compensates them (a participant's barrier makes that a no-op if they never ran).
   * Compensations still out are sent again, until the attempts run out (STUCK).
   */
  async timeout(): Promise<void> {
    await this.load();
    const d = this.t.draft;
    const error = Object.assign(new Error(`no reply to every branch of ${this.group.name} in time`), {
      code: 'TIMEOUT',
    });
    this.t.record('TIMEOUT', { action: d.waitingAction, group: true }, this.group.name);
    d.waitingAction = null;
    d.wakeAt = null;
    this.t.groupDeadline = null;
    if (this.count('compensating') > 0) {
      this.t.retryOrStuck(this.group, error);
      if (d.status === 'STUCK') return;
      d.wakeAt = null;
      for (const branch of this.branches) {
        if (this.states.get(branch.name) === 'compensating') await this.t.sendCommand(branch, 'compensate');
      }
      this.wait('compensate');
      return;
    }
    for (const branch of this.branches)
      if (this.states.get(branch.name) === 'waiting') await this.set(branch, 'done');
    if (d.direction === 'forward') this.markFailed(error, 'TIMEOUT', null);
  }

  private async done(branch: StepDefinition<D>, detail: Record<string, unknown>): Promise<void> {
    await this.set(branch, 'done');
    this.t.record('BRANCH_DONE', detail, branch.name);
  }

  private async compensated(branch: StepDefinition<D>, detail: Record<string, unknown>): Promise<void> {
    await this.set(branch, 'compensated');
    this.t.record('BRANCH_COMPENSATED', detail, branch.name);
  }

  private async failed(branch: StepDefinition<D>, error: unknown, fallback: string): Promise<void> {
    await this.set(branch, 'failed');
    this.t.record(
      'BRANCH_FAILED',
      { reason: failureReason(error, fallback), error: errorText(error) },
      branch.name,
    );
    if (this.t.draft.direction === 'forward') this.markFailed(error, fallback, branch.name);
  }

  /** The first failure decides the saga's reason; the group then compensates its succeeded branches. */
  private markFailed(error: unknown, fallback: string, branch: string | null): void {
    const reason = failureReason(error, fallback);
    this.t.record('STEP_FAILED', { reason, error: errorText(error), branch }, this.group.name);
    Object.assign(this.t.draft, { failureReason: reason, lastError: errorText(error) });
    this.turnBack();
  }
}

/**
 * The orchestrator's reply path for a saga standing on a step group: applies a branch's reply
 * and moves the saga on. False when the reply is stale or not a branch's.
 */
export async function applyGroupReply<D>(
  t: SagaTransition<D>,
  reply: SagaReplyPayload,
  messageId: string,
): Promise<boolean> {
  const group = t.step;
  if (!group?.branches || !t.isActive()) return false;
  t.groupDeadline = t.draft.wakeAt;
  t.record('REPLY', { reply: reply.reply, messageId, action: reply.action, branch: reply.step });
  if (!(await new StepGroupRunner(t, group).reply(reply))) return false;
  if (t.draft.status === 'STUCK') return true;
  Object.assign(t.draft, { waitingAction: null, wakeAt: null });
  await t.advance();
  return true;
}
