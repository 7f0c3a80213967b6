import { ConcurrencyConflictError } from '../errors.js';
import { writeLater, type SqlDialect, type SqlExecutor } from '../sql/sql-driver.js';
import type { SagaHistoryEntry, SagaHistoryEvent, SagaInstance, SagaStatus } from './saga-instance.js';

type Row = Record<string, unknown>;

const COLUMNS = [
  'saga_id',
  'saga_type',
  'data',
  'status',
  'direction',
  'current_step',
  'step_attempts',
  'waiting_action',
  'waiting_attempt',
  'wake_at',
  'failure_reason',
  'last_error',
  'version',
  'created_at',
  'updated_at',
  'definition_version',
] as const;

const num = (v: unknown) => (v == null ? null : Number(v));

function fromRow(r: Row): SagaInstance {
  return {
    sagaId: String(r.saga_id),
    sagaType: String(r.saga_type),
    data: JSON.parse(String(r.data)) as unknown,
    status: String(r.status) as SagaStatus,
    direction: String(r.direction) as SagaInstance['direction'],
    currentStep: Number(r.current_step),
    stepAttempts: Number(r.step_attempts),
    waitingAction: (r.waiting_action ?? null) as SagaInstance['waitingAction'],
    waitingAttempt: num(r.waiting_attempt),
    wakeAt: num(r.wake_at),
    failureReason: (r.failure_reason ?? null) as string | null,
    lastError: (r.last_error ?? null) as string | null,
    version: Number(r.version),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    definitionVersion: (r.definition_version ?? null) as string | null,
  };
}

function values(s: SagaInstance): unknown[] {
  return [
    s.sagaId,
    s.sagaType,
    JSON.stringify(s.data),
    s.status,
    s.direction,
    s.currentStep,
    s.stepAttempts,
    s.waitingAction,
    s.waitingAttempt,
    s.wakeAt,
    s.failureReason,
    s.lastError,
    s.version,
    s.createdAt,
    s.updatedAt,
    s.definitionVersion ?? null,
  ];
}

export interface SagaListFilter {
  readonly status?: SagaStatus;
  readonly sagaType?: string;
  readonly limit?: number;
  /** Rows to skip (pagination), newest first. */
  readonly offset?: number;
}

/** Saga instances and their history in the orchestrator's own database. */
export class SagaRepository {
  constructor(private readonly d: SqlDialect) {}

  /** The instances table, as the dialect names it. */
  get instances(): string {
    return this.d.table('saga_instances');
  }

  async insert(exec: SqlExecutor, s: SagaInstance): Promise<boolean> {
    const changed = await exec.execute(this.d.insertIgnore(this.instances, COLUMNS), values(s));
    return changed === 1;
  }

  /** A plain INSERT, queued where the executor can: an existing row fails the transaction. */
  async insertLater(exec: SqlExecutor, s: SagaInstance): Promise<void> {
    await writeLater(exec, `INSERT INTO ${this.instances} (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`, values(s));
  }

  async load(exec: SqlExecutor, sagaId: string, forUpdate = false): Promise<SagaInstance | undefined> {
    const rows = await exec.query<Row>(
      `SELECT ${COLUMNS.join(', ')} FROM ${this.instances} WHERE saga_id = ?${forUpdate ? this.d.forUpdate : ''}`,
      [sagaId],
    );
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /**
   * Writes `next` over version `next.version - 1`. Every caller loaded the row FOR UPDATE in
   * this transaction, so nobody can have moved it since: where the driver queues writes
   * (`enqueue`) that lock is the check; elsewhere a changed version still fails here.
   */
  async update(exec: SqlExecutor, next: SagaInstance): Promise<void> {
    const [, ...rest] = COLUMNS;
    const [, ...vals] = values(next);
    const sql = `UPDATE ${this.instances} SET ${rest.map((c) => `${c} = ?`).join(', ')} WHERE saga_id = ? AND version = ?`;
    const params = [...vals, next.sagaId, next.version - 1];
    if (exec.enqueue) return exec.enqueue(sql, params);
    if ((await exec.execute(sql, params)) !== 1) {
      throw new ConcurrencyConflictError(`saga ${next.sagaId} changed concurrently (expected version ${next.version - 1})`);
    }
  }

  /** Appends a transition's history entries in one multi-row insert. */
  async appendHistory(
    exec: SqlExecutor,
    sagaId: string,
    at: number,
    entries: ReadonlyArray<{ step: string | null; event: SagaHistoryEvent; detail: Record<string, unknown> }>,
  ): Promise<void> {
    if (entries.length === 0) return;
    await writeLater(
      exec,
      `INSERT INTO ${this.d.table('saga_history')} (saga_id, at, step, event, detail) VALUES ${entries.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
      entries.flatMap((e) => [sagaId, at, e.step, e.event, JSON.stringify(e.detail)]),
    );
  }

  async history(exec: SqlExecutor, sagaId: string): Promise<SagaHistoryEntry[]> {
    const rows = await exec.query<Row>(
      `SELECT id, at, step, event, detail FROM ${this.d.table('saga_history')} WHERE saga_id = ? ORDER BY id`,
      [sagaId],
    );
    // The detail is what the transition recorded for that event (a reason for the failure events).
    return rows.map(
      (r) =>
        ({
          id: Number(r.id),
          at: Number(r.at),
          step: (r.step ?? null) as string | null,
          event: String(r.event) as SagaHistoryEvent,
          detail: JSON.parse(String(r.detail)) as Record<string, unknown>,
        }) as SagaHistoryEntry,
    );
  }

  async list(exec: SqlExecutor, filter: SagaListFilter = {}): Promise<SagaInstance[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.sagaType) {
      where.push('saga_type = ?');
      params.push(filter.sagaType);
    }
    const rows = await exec.query<Row>(
      `SELECT ${COLUMNS.join(', ')} FROM ${this.instances}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ` +
        `ORDER BY updated_at DESC, saga_id LIMIT ? OFFSET ?`,
      [...params, filter.limit ?? 100, filter.offset ?? 0],
    );
    return rows.map(fromRow);
  }

  /** Sagas waiting for a retry or a reply deadline, with the version that set the wait. */
  async waiting(exec: SqlExecutor): Promise<Array<{ sagaId: string; version: number; wakeAt: number }>> {
    const rows = await exec.query<Row>(`SELECT saga_id, version, wake_at FROM ${this.instances} WHERE wake_at IS NOT NULL`);
    return rows.map((r) => ({ sagaId: String(r.saga_id), version: Number(r.version), wakeAt: Number(r.wake_at) }));
  }

  async countByStatus(exec: SqlExecutor): Promise<Record<string, number>> {
    const rows = await exec.query<{ status: string; n: number | string }>(
      `SELECT status, COUNT(*) AS n FROM ${this.instances} GROUP BY status`,
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  /** Deletes sagas COMPLETED, COMPENSATED or ABORTED before `before`, with their history. Never a STUCK or running one. */
  async purgeFinished(exec: SqlExecutor, before: number): Promise<number> {
    const finished = `status IN ('COMPLETED', 'COMPENSATED', 'ABORTED') AND updated_at < ?`;
    await exec.execute(
      `DELETE FROM ${this.d.table('saga_history')} WHERE saga_id IN (SELECT saga_id FROM ${this.instances} WHERE ${finished})`,
      [before],
    );
    return exec.execute(`DELETE FROM ${this.instances} WHERE ${finished}`, [before]);
  }
}
