import type { SqlDialect, SqlExecutor } from '../sql/sql-driver.js';

export const TimerStatus = {
  SCHEDULED: 'SCHEDULED',
  FIRED: 'FIRED',
  CANCELLED: 'CANCELLED',
  /** The handler failed on every attempt: a person looks at `lastError`. */
  FAILED: 'FAILED',
} as const;
export type TimerStatus = (typeof TimerStatus)[keyof typeof TimerStatus];

export interface NewTimer {
  /** Caller-assigned: scheduling the same id again changes nothing. */
  readonly id: string;
  /** Names the handler that fires it. */
  readonly kind: string;
  /** Epoch milliseconds at which it is due. */
  readonly at: number;
  readonly payload?: unknown;
}

export interface TimerView {
  readonly id: string;
  readonly kind: string;
  readonly payload: unknown;
  readonly dueAt: number;
  readonly status: TimerStatus;
  /** The instance holding the lease while it fires, if any. */
  readonly owner: string | null;
  readonly leaseUntil: number | null;
  /** Incremented by every claim; a fire commits only with the token of the latest claim. */
  readonly fence: number;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly createdAt: number;
  readonly firedAt: number | null;
}

/** A timer claimed by one instance, with the fencing token its fire must present. */
export interface ClaimedTimer {
  readonly id: string;
  readonly kind: string;
  readonly payload: unknown;
  readonly dueAt: number;
  readonly fence: number;
  readonly attempts: number;
}

export interface TimerListFilter {
  readonly status?: TimerStatus;
  readonly kind?: string;
  readonly limit?: number;
}

type Row = Record<string, unknown>;
const num = (v: unknown) => (v == null ? null : Number(v));
const COLUMNS = 'timer_id, kind, payload, due_at, status, owner, lease_until, fence, attempts, last_error, created_at, fired_at';

function fromRow(r: Row): TimerView {
  return {
    id: String(r.timer_id),
    kind: String(r.kind),
    payload: JSON.parse(String(r.payload)) as unknown,
    dueAt: Number(r.due_at),
    status: String(r.status) as TimerStatus,
    owner: (r.owner ?? null) as string | null,
    leaseUntil: num(r.lease_until),
    fence: Number(r.fence),
    attempts: Number(r.attempts),
    lastError: (r.last_error ?? null) as string | null,
    createdAt: Number(r.created_at),
    firedAt: num(r.fired_at),
  };
}

/** The timers table: every statement the runtime and the operator API need, written once. */
export class TimerRepository {
  constructor(private readonly d: SqlDialect) {}

  private get table() {
    return this.d.table('timers');
  }

  async insert(exec: SqlExecutor, timer: NewTimer, now: number): Promise<boolean> {
    const columns = ['timer_id', 'kind', 'payload', 'due_at', 'status', 'fence', 'attempts', 'created_at'];
    const changed = await exec.execute(this.d.insertIgnore(this.table, columns), [
      timer.id,
      timer.kind,
      JSON.stringify(timer.payload ?? null),
      Math.round(timer.at),
      TimerStatus.SCHEDULED,
      0,
      0,
      now,
    ]);
    return changed === 1;
  }

  async cancel(exec: SqlExecutor, id: string): Promise<boolean> {
    const changed = await exec.execute(
      `UPDATE ${this.table} SET status = ?, owner = NULL, lease_until = NULL WHERE timer_id = ? AND status = ?`,
      [TimerStatus.CANCELLED, id, TimerStatus.SCHEDULED],
    );
    return changed === 1;
  }

  /** Deletes a timer still SCHEDULED (undoing a schedule made earlier in the same transaction). */
  async remove(exec: SqlExecutor, id: string): Promise<boolean> {
    return (await exec.execute(`DELETE FROM ${this.table} WHERE timer_id = ? AND status = ?`, [id, TimerStatus.SCHEDULED])) === 1;
  }

  async get(exec: SqlExecutor, id: string): Promise<TimerView | undefined> {
    const rows = await exec.query<Row>(`SELECT ${COLUMNS} FROM ${this.table} WHERE timer_id = ?`, [id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async list(exec: SqlExecutor, filter: TimerListFilter = {}): Promise<TimerView[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.kind) {
      where.push('kind = ?');
      params.push(filter.kind);
    }
    const rows = await exec.query<Row>(
      `SELECT ${COLUMNS} FROM ${this.table}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY due_at LIMIT ?`,
      [...params, filter.limit ?? 100],
    );
    return rows.map(fromRow);
  }

  async countByStatus(exec: SqlExecutor): Promise<Record<string, number>> {
    const rows = await exec.query<{ status: string; n: number | string }>(`SELECT status, COUNT(*) AS n FROM ${this.table} GROUP BY status`);
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  /**
   * Takes a lease on up to `limit` due timers of `kinds` whose lease (if any) ran out, bumping
   * each one's fencing token. Runs in its own short transaction; where the server has SKIP
   * LOCKED, instances claim disjoint rows without waiting on each other.
   */
  async claim(
    exec: SqlExecutor,
    kinds: readonly string[],
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
  ): Promise<ClaimedTimer[]> {
    if (kinds.length === 0) return [];
    const kindList = kinds.map(() => '?').join(', ');
    const lock = this.d.capabilities.supportsSkipLocked ? `${this.d.forUpdate} SKIP LOCKED` : this.d.forUpdate;
    const rows = await exec.query<Row>(
      `SELECT timer_id, kind, payload, due_at, fence, attempts FROM ${this.table} WHERE status = ? AND due_at <= ? ` +
        `AND kind IN (${kindList}) AND (lease_until IS NULL OR lease_until < ?) ORDER BY due_at LIMIT ?${lock}`,
      [TimerStatus.SCHEDULED, now, ...kinds, now, limit],
    );
    if (rows.length === 0) return [];
    const ids = rows.map((r) => String(r.timer_id));
    // The same conditions again: without row locks (SQLite) the select and update still run in
    // one write transaction, and with them the re-check is free.
    const changed = await exec.execute(
      `UPDATE ${this.table} SET owner = ?, lease_until = ?, fence = fence + 1 WHERE timer_id IN (${ids.map(() => '?').join(', ')}) ` +
        `AND status = ? AND (lease_until IS NULL OR lease_until < ?)`,
      [owner, now + leaseMs, ...ids, TimerStatus.SCHEDULED, now],
    );
    if (changed !== rows.length) {
      // Someone changed a row between our read and write (a server without row locks on the
      // read): read back exactly what we hold now.
      const held = await exec.query<Row>(
        `SELECT timer_id, kind, payload, due_at, fence, attempts FROM ${this.table} WHERE timer_id IN (${ids.map(() => '?').join(', ')}) ` +
          `AND owner = ? AND lease_until = ? AND status = ?`,
        [...ids, owner, now + leaseMs, TimerStatus.SCHEDULED],
      );
      return held.map((r) => this.claimed(r, 0));
    }
    return rows.map((r) => this.claimed(r, 1));
  }

  private claimed(r: Row, bump: number): ClaimedTimer {
    return {
      id: String(r.timer_id),
      kind: String(r.kind),
      payload: JSON.parse(String(r.payload)) as unknown,
      dueAt: Number(r.due_at),
      fence: Number(r.fence) + bump,
      attempts: Number(r.attempts),
    };
  }

  /**
   * Marks a claimed timer fired, in the transaction that runs its handler, only if the claim
   * is still the latest (same fencing token) and nobody cancelled it. The update takes the
   * row's lock, so a later claim waits for this transaction and then finds it FIRED.
   */
  async markFired(exec: SqlExecutor, timer: ClaimedTimer, now: number): Promise<boolean> {
    const changed = await exec.execute(
      `UPDATE ${this.table} SET status = ?, fired_at = ?, owner = NULL, lease_until = NULL, attempts = attempts + 1 ` +
        `WHERE timer_id = ? AND status = ? AND fence = ?`,
      [TimerStatus.FIRED, now, timer.id, TimerStatus.SCHEDULED, timer.fence],
    );
    return changed === 1;
  }

  /** A failed fire: the lease goes, the timer is due again at `retryAt`, or FAILED past the limit. */
  async markFailed(exec: SqlExecutor, timer: ClaimedTimer, error: string, retryAt: number, giveUp: boolean): Promise<boolean> {
    const changed = await exec.execute(
      `UPDATE ${this.table} SET status = ?, due_at = ?, owner = NULL, lease_until = NULL, attempts = attempts + 1, last_error = ? ` +
        `WHERE timer_id = ? AND status = ? AND fence = ?`,
      [giveUp ? TimerStatus.FAILED : TimerStatus.SCHEDULED, retryAt, error, timer.id, TimerStatus.SCHEDULED, timer.fence],
    );
    return changed === 1;
  }

  /**
   * When a scheduled timer of `kinds` may next be claimed: its due time, or the end of the
   * lease another instance holds on it. The loop sleeps exactly until then.
   */
  async nextDue(exec: SqlExecutor, kinds: readonly string[]): Promise<number | null> {
    if (kinds.length === 0) return null;
    const rows = await exec.query<{ next: number | string | null }>(
      `SELECT MIN(CASE WHEN lease_until IS NULL OR lease_until < due_at THEN due_at ELSE lease_until + 1 END) AS ${this.d.quote('next')} FROM ${this.table} WHERE status = ? AND kind IN (${kinds.map(() => '?').join(', ')})`,
      [TimerStatus.SCHEDULED, ...kinds],
    );
    return num(rows[0]?.next);
  }

  /** Deletes FIRED and CANCELLED timers finished before `olderThan`. */
  purge(exec: SqlExecutor, olderThan: number): Promise<number> {
    return exec.execute(
      `DELETE FROM ${this.table} WHERE (status = ? AND fired_at < ?) OR (status = ? AND created_at < ?)`,
      [TimerStatus.FIRED, olderThan, TimerStatus.CANCELLED, olderThan],
    );
  }
}
