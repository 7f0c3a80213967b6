import { writeLater, type SqlDialect, type SqlExecutor } from '../sql/sql-driver.js';
import { barrierAction } from './saga-messages.js';
import type { SagaAction } from './saga-instance.js';

export type BarrierDecision =
  | { readonly kind: 'run' }
  /** The same command was handled before: answer with the reply recorded then. */
  | { readonly kind: 'recorded'; readonly reply: string; readonly body: unknown }
  /** A compensation arrived before its action: succeed without running anything. */
  | { readonly kind: 'null-compensation' }
  /** The action arrived after its compensation: it must not run. */
  | { readonly kind: 'blocked' }
  /** The participant promised to answer later (a deferred reply): nothing to send now. */
  | { readonly kind: 'deferred' };

/**
 * DTM-style barrier keyed by (saga id, step, action), kept in the participant's database and
 * written in the same transaction as the handler's effect. It makes duplicate commands return
 * the recorded reply, turns a compensation without its action into a no-op (null compensation)
 * and stops the late action from running after it (hanging).
 */
export class ParticipantBarrier {
  constructor(private readonly d: SqlDialect) {}

  private get table() {
    return this.d.table('saga_barrier');
  }

  /** The insert-if-absent of a barrier row, and its parameters. */
  private row(sagaId: string, step: string, action: string, status: string, now: number): [string, unknown[]] {
    return [this.d.insertIgnore(this.table, ['saga_id', 'step', 'action', 'status', 'created_at']), [sagaId, step, action, status, now]];
  }

  private insert(exec: SqlExecutor, sagaId: string, step: string, action: string, status: string, now: number) {
    return exec.execute(...this.row(sagaId, step, action, status, now));
  }

  private async recorded(exec: SqlExecutor, sagaId: string, step: string, action: string): Promise<BarrierDecision> {
    const rows = await exec.query<{ status: string; reply_type: string | null; reply_payload: string | null }>(
      `SELECT status, reply_type, reply_payload FROM ${this.table} WHERE saga_id = ? AND step = ? AND action = ?`,
      [sagaId, step, action],
    );
    const row = rows[0];
    if (!row || row.status === 'blocked') return { kind: 'blocked' };
    if (row.status === 'deferred') return { kind: 'deferred' };
    return { kind: 'recorded', reply: row.reply_type ?? '', body: row.reply_payload == null ? {} : JSON.parse(row.reply_payload) };
  }

  async enter(exec: SqlExecutor, sagaId: string, step: string, action: SagaAction, attempt: number, now: number): Promise<BarrierDecision> {
    const key = barrierAction(action, attempt);
    // The insert takes the row (and, on servers, its lock) first: concurrent duplicates wait for us.
    if ((await this.insert(exec, sagaId, step, key, 'running', now)) !== 1) return this.recorded(exec, sagaId, step, key);
    if (action === 'invoke') return { kind: 'run' };
    // A compensation: did its action ever run? Claiming the action's row answers it atomically.
    if ((await this.insert(exec, sagaId, step, 'invoke', 'blocked', now)) === 1) return { kind: 'null-compensation' };
    return { kind: 'run' };
  }

  /**
   * The first attempt of an action, claimed without waiting (where the executor can): the
   * claim goes out with the handler's first statement, and the returned check says whether it
   * took the row. Answers arrive in order, so asking after that statement costs nothing. When
   * the check says no, the caller must not commit what it did since (a duplicate, or an action
   * blocked by its compensation): it runs again through `enter`. Undefined where the executor
   * cannot queue a counted write.
   */
  claimLater(exec: SqlExecutor, sagaId: string, step: string, attempt: number, now: number): (() => Promise<boolean>) | undefined {
    if (!exec.enqueueCounted) return undefined;
    const claimed = exec.enqueueCounted(...this.row(sagaId, step, barrierAction('invoke', attempt), 'running', now));
    return async () => (await claimed()) === 1;
  }

  async record(exec: SqlExecutor, sagaId: string, step: string, action: SagaAction, attempt: number, reply: string, body: unknown) {
    // 'blocked' rows stay blocked (a deadlock victim's late answer must not count).
    await writeLater(
      exec,
      `UPDATE ${this.table} SET status = 'done', reply_type = ?, reply_payload = ? WHERE saga_id = ? AND step = ? AND action = ? AND status <> 'blocked'`,
      [reply, JSON.stringify(body ?? {}), sagaId, step, barrierAction(action, attempt)],
    );
  }

  /** The handler will answer later: duplicates of the command stay silent until then. */
  async defer(exec: SqlExecutor, sagaId: string, step: string, action: SagaAction, attempt: number) {
    await exec.execute(`UPDATE ${this.table} SET status = 'deferred' WHERE saga_id = ? AND step = ? AND action = ?`, [
      sagaId,
      step,
      barrierAction(action, attempt),
    ]);
  }

  /** The command was parked behind a semantic lock: it will enter again when re-sent. */
  async forget(exec: SqlExecutor, sagaId: string, step: string, barrierKey: string) {
    await exec.execute(`DELETE FROM ${this.table} WHERE saga_id = ? AND step = ? AND action = ? AND status = 'running'`, [
      sagaId,
      step,
      barrierKey,
    ]);
  }

  /** The action must never run (its saga gave up on it, e.g. a deadlock victim): a late copy is dropped. */
  async block(exec: SqlExecutor, sagaId: string, step: string, barrierKey: string, now: number) {
    await this.insert(exec, sagaId, step, barrierKey, 'blocked', now);
  }

  /** Whether the saga has started compensating `step` here (a deferred answer is then too late). */
  async compensationStarted(exec: SqlExecutor, sagaId: string, step: string): Promise<boolean> {
    const rows = await exec.query(`SELECT 1 AS one FROM ${this.table} WHERE saga_id = ? AND step = ? AND action LIKE 'compensate%'`, [
      sagaId,
      step,
    ]);
    return rows.length > 0;
  }

  /** Notes that the orchestrator finished the saga: from now on its rows age toward the purge. */
  async finished(exec: SqlExecutor, sagaId: string, status: string, now: number): Promise<void> {
    await writeLater(exec, this.d.insertIgnore(this.d.table('saga_finished'), ['saga_id', 'status', 'finished_at']), [sagaId, status, now]);
  }

  /**
   * Deletes the barrier rows of sagas finished before `finishedBefore`, and their finish notes.
   * Rows of a saga not known to be finished are kept whatever their age: a STUCK saga retried
   * months later still finds that its action ran, so its compensation really compensates
   * (purging by age alone turned it into a null compensation). With `unfinishedBefore`, rows of
   * unfinished sagas created before it go too (an opt-in for orchestrators that never send
   * finish notes, e.g. older versions).
   */
  async purge(exec: SqlExecutor, finishedBefore: number, unfinishedBefore: number | null = null): Promise<number> {
    const finished = this.d.table('saga_finished');
    let removed = await exec.execute(
      `DELETE FROM ${this.table} WHERE saga_id IN (SELECT saga_id FROM ${finished} WHERE finished_at < ?)`,
      [finishedBefore],
    );
    await exec.execute(`DELETE FROM ${finished} WHERE finished_at < ?`, [finishedBefore]);
    if (unfinishedBefore !== null) removed += await exec.execute(`DELETE FROM ${this.table} WHERE created_at < ?`, [unfinishedBefore]);
    return removed;
  }
}
