import type { SqlDialect, SqlExecutor } from '../sql/sql-driver.js';

/**
 * waiting: its command is out; done: it succeeded (compensate it if the saga turns back);
 * failed: it failed (nothing to undo); compensating: its compensation is out; compensated.
 */
export type BranchStatus = 'waiting' | 'done' | 'failed' | 'compensating' | 'compensated';

/** Branch states of a saga's current step group, in the orchestrator's database. */
export class SagaBranches {
  constructor(private readonly d: SqlDialect) {}

  private get table() {
    return this.d.table('saga_branches');
  }

  async load(exec: SqlExecutor, sagaId: string, step: string): Promise<Map<string, BranchStatus>> {
    const rows = await exec.query<{ branch: string; status: string }>(
      `SELECT branch, status FROM ${this.table} WHERE saga_id = ? AND step = ? ORDER BY position`,
      [sagaId, step],
    );
    return new Map(rows.map((r) => [r.branch, r.status as BranchStatus]));
  }

  async set(
    exec: SqlExecutor,
    sagaId: string,
    step: string,
    branch: string,
    position: number,
    status: BranchStatus,
    now: number,
    isNew: boolean,
  ) {
    if (!isNew) {
      await exec.execute(
        `UPDATE ${this.table} SET status = ?, updated_at = ? WHERE saga_id = ? AND step = ? AND branch = ?`,
        [status, now, sagaId, step, branch],
      );
    } else {
      await exec.execute(
        `INSERT INTO ${this.table} (saga_id, step, branch, status, position, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
        [sagaId, step, branch, status, position, now],
      );
    }
  }

  /** The saga ended: its groups' branch rows are of no more use. */
  async clearSaga(exec: SqlExecutor, sagaId: string): Promise<void> {
    await exec.execute(`DELETE FROM ${this.table} WHERE saga_id = ?`, [sagaId]);
  }

  async clear(exec: SqlExecutor, sagaId: string, step: string): Promise<void> {
    await exec.execute(`DELETE FROM ${this.table} WHERE saga_id = ? AND step = ?`, [sagaId, step]);
  }
}
