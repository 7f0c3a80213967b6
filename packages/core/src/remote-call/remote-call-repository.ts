import type { SqlDialect, SqlExecutor } from '../sql/sql-driver.js';
import type { RemoteCallState } from './remote-call-state.js';

/** One remote object as the caller tracks it. */
export interface RemoteCallRecord<P = unknown> {
  readonly type: string;
  readonly key: string;
  readonly state: RemoteCallState;
  /** The payload of the latest request (create, update or delete). */
  readonly payload: P;
  /** The remote side's own id for the object, once an answer named it. */
  readonly remoteId: string | null;
  /** The latest answer's body, as the call returned it. */
  readonly result: unknown;
  /** Attempts at the current request (a call cut short by a crash counts too). */
  readonly attempts: number;
  readonly nextAttemptAt: number | null;
  /** Set when retries ran out: the intent waits for a person. */
  readonly parkedAt: number | null;
  readonly lastError: string | null;
  readonly version: number;
  /** When the current request was made (stale intents are judged by it). */
  readonly requestedAt: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A record nothing has happened to yet: no answer, no attempt, stamped `now`. */
export function newRemoteCallRecord(type: string, key: string, state: RemoteCallState, payload: unknown, now: number, version: number): RemoteCallRecord {
  return {
    type,
    key,
    state,
    payload,
    remoteId: null,
    result: null,
    attempts: 0,
    nextAttemptAt: null,
    parkedAt: null,
    lastError: null,
    version,
    requestedAt: now,
    createdAt: now,
    updatedAt: now,
  };
}

export interface RemoteCallHistoryEntry {
  readonly at: number;
  readonly event: string;
  readonly state: RemoteCallState;
  readonly actor: string | null;
  readonly detail: Record<string, unknown>;
}

type Row = Record<string, unknown>;
const num = (v: unknown) => (v == null ? null : Number(v));
const COLUMNS =
  'call_type, call_key, state, payload, remote_id, result, attempts, next_attempt_at, parked_at, last_error, version, requested_at, created_at, updated_at';

function fromRow(r: Row): RemoteCallRecord {
  return {
    type: String(r.call_type),
    key: String(r.call_key),
    state: String(r.state) as RemoteCallState,
    payload: JSON.parse(String(r.payload)) as unknown,
    remoteId: r.remote_id == null ? null : String(r.remote_id),
    result: r.result == null ? null : (JSON.parse(String(r.result)) as unknown),
    attempts: Number(r.attempts),
    nextAttemptAt: num(r.next_attempt_at),
    parkedAt: num(r.parked_at),
    lastError: r.last_error == null ? null : String(r.last_error),
    version: Number(r.version),
    requestedAt: Number(r.requested_at),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export interface RemoteCallFilter {
  readonly type?: string;
  readonly states?: readonly RemoteCallState[];
  readonly parked?: boolean;
  /** Only intents whose current request is older than this time (stale ones, when pending). */
  readonly requestedBefore?: number;
  readonly limit?: number;
}

/** The SQL of the tracker, written once for SQLite, PostgreSQL and MySQL. */
export class RemoteCallRepository {
  constructor(private readonly d: SqlDialect) {}

  private get calls() {
    return this.d.table('remote_calls');
  }

  async find(
    sql: SqlExecutor,
    type: string,
    key: string,
    forUpdate = false,
  ): Promise<RemoteCallRecord | undefined> {
    const rows = await sql.query<Row>(
      `SELECT ${COLUMNS} FROM ${this.calls} WHERE call_type = ? AND call_key = ?${forUpdate ? this.d.forUpdate : ''}`,
      [type, key],
    );
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async insert(sql: SqlExecutor, r: RemoteCallRecord): Promise<void> {
    await sql.execute(
      `INSERT INTO ${this.calls} (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        r.type,
        r.key,
        r.state,
        JSON.stringify(r.payload ?? null),
        r.remoteId,
        r.result == null ? null : JSON.stringify(r.result),
        r.attempts,
        r.nextAttemptAt,
        r.parkedAt,
        r.lastError,
        r.version,
        r.requestedAt,
        r.createdAt,
        r.updatedAt,
      ],
    );
  }

  /** Writes `next` only if the row still has `expectedVersion`; false when someone changed it first. */
  async update(sql: SqlExecutor, next: RemoteCallRecord, expectedVersion: number): Promise<boolean> {
    const changed = await sql.execute(
      `UPDATE ${this.calls} SET state = ?, payload = ?, remote_id = ?, result = ?, attempts = ?, next_attempt_at = ?, ` +
        `parked_at = ?, last_error = ?, version = ?, requested_at = ?, updated_at = ? WHERE call_type = ? AND call_key = ? AND version = ?`,
      [
        next.state,
        JSON.stringify(next.payload ?? null),
        next.remoteId,
        next.result == null ? null : JSON.stringify(next.result),
        next.attempts,
        next.nextAttemptAt,
        next.parkedAt,
        next.lastError,
        next.version,
        next.requestedAt,
        next.updatedAt,
        next.type,
        next.key,
        expectedVersion,
      ],
    );
    return changed === 1;
  }

  /** Records the remote id an answer named, when the intent moved on before the answer came. */
  async fillRemoteId(sql: SqlExecutor, type: string, key: string, remoteId: string): Promise<void> {
    await sql.execute(
      `UPDATE ${this.calls} SET remote_id = ? WHERE call_type = ? AND call_key = ? AND remote_id IS NULL`,
      [remoteId, type, key],
    );
  }

  async due(sql: SqlExecutor, now: number, limit: number): Promise<RemoteCallRecord[]> {
    const rows = await sql.query<Row>(
      `SELECT ${COLUMNS} FROM ${this.calls} WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?`,
      [now, limit],
    );
    return rows.map(fromRow);
  }

  /** The earliest time a pending call is due, or null when none waits. */
  async nextDueAt(sql: SqlExecutor): Promise<number | null> {
    const rows = await sql.query<{ t: unknown }>(
      `SELECT MIN(next_attempt_at) AS t FROM ${this.calls} WHERE next_attempt_at IS NOT NULL`,
    );
    return num(rows[0]?.t);
  }

  async list(sql: SqlExecutor, filter: RemoteCallFilter = {}): Promise<RemoteCallRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.type !== undefined) {
      where.push('call_type = ?');
      params.push(filter.type);
    }
    if (filter.states?.length) {
      where.push(`state IN (${filter.states.map(() => '?').join(', ')})`);
      params.push(...filter.states);
    }
    if (filter.parked !== undefined)
      where.push(filter.parked ? 'parked_at IS NOT NULL' : 'parked_at IS NULL');
    if (filter.requestedBefore !== undefined) {
      where.push('requested_at < ?');
      params.push(filter.requestedBefore);
    }
    const rows = await sql.query<Row>(
      `SELECT ${COLUMNS} FROM ${this.calls}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY call_type, call_key LIMIT ?`,
      [...params, filter.limit ?? 1000],
    );
    return rows.map(fromRow);
  }

  async addHistory(
    sql: SqlExecutor,
    r: RemoteCallRecord,
    at: number,
    event: string,
    detail: Record<string, unknown> = {},
    actor: string | null = null,
  ): Promise<void> {
    await sql.execute(
      `INSERT INTO ${this.d.table('remote_call_history')} (call_type, call_key, at, event, state, actor, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [r.type, r.key, at, event, r.state, actor, JSON.stringify(detail)],
    );
  }

  async history(sql: SqlExecutor, type: string, key: string): Promise<RemoteCallHistoryEntry[]> {
    const rows = await sql.query<Row>(
      `SELECT at, event, state, actor, detail FROM ${this.d.table('remote_call_history')} WHERE call_type = ? AND call_key = ? ORDER BY id`,
      [type, key],
    );
    return rows.map((r) => ({
      at: Number(r.at),
      event: String(r.event),
      state: String(r.state) as RemoteCallState,
      actor: r.actor == null ? null : String(r.actor),
      detail: JSON.parse(String(r.detail)) as Record<string, unknown>,
    }));
  }
}
