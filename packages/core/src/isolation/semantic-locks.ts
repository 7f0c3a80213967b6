import { InvalidArgumentError } from '../errors.js';
import { newId } from '../ids.js';
import { MessageHeader, type MessageEnvelope } from '../message/envelope.js';
import { assertName } from '../message/message-definition.js';
import type { Clock } from '../ports/clock.js';
import { systemClock } from '../ports/clock.js';
import { writeLater, type SqlDialect, type SqlExecutor } from '../sql/sql-driver.js';
import type { Transaction } from '../ports/store.js';
import { SqlStoreTransaction } from '../sql/sql-store.js';
import { LockWaitRequired, ResourceLockedError } from './lock-errors.js';

/** Header carrying when the saga started: the deadlock detector fails the youngest saga. */
export const SAGA_STARTED_AT_HEADER = 'concord-saga-started-at';

/** What to do when another saga holds the resource. */
export type OnLocked = 'fail' | 'wait';

/** The saga a lock belongs to. */
export interface LockOwner {
  readonly sagaId: string;
  readonly sagaStartedAt: number;
}

export interface HeldLock {
  readonly resource: string;
  readonly sagaId: string;
  readonly sagaStartedAt: number;
  readonly lockedAt: number;
}

export interface LockWait {
  readonly id: number;
  readonly resource: string;
  readonly sagaId: string;
  readonly sagaStartedAt: number;
  readonly step: string;
  readonly action: string;
  readonly barrierKey: string;
  readonly envelope: MessageEnvelope;
  readonly createdAt: number;
}

/** The lock owner a saga command speaks for, from its headers. */
export function lockOwnerOf(message: MessageEnvelope): LockOwner {
  const sagaId = message.headers[MessageHeader.sagaId];
  if (!sagaId)
    throw new InvalidArgumentError(
      `message ${message.id} (${message.type}) is not a saga command: no lock owner`,
    );
  const startedAt = Number(message.headers[SAGA_STARTED_AT_HEADER]);
  return {
    sagaId,
    sagaStartedAt: Number.isFinite(startedAt) && startedAt > 0 ? startedAt : message.createdAt,
  };
}

type Row = Record<string, unknown>;

/**
 * Semantic locks (seed 003): a flag on a resource saying "a saga is changing this, it may
 * still change or be undone", kept in the participant's own database and taken in the
 * command handler's transaction. Other sagas' commands fail fast or wait in a durable queue
 * (the `lock_waits` table); a release re-sends the waiting commands through the outbox in the
 * releasing transaction, so no wake-up is lost to a crash.
 */
export class SemanticLocks {
  constructor(
    private readonly d: SqlDialect,
    private readonly clock: Clock = systemClock,
  ) {}

  private get locks() {
    return this.d.table('semantic_locks');
  }

  private get waits() {
    return this.d.table('lock_waits');
  }

  /**
   * Takes `resource` for the saga behind `owner` (a saga command, or an explicit owner), or
   * confirms this saga holds it already. When another saga holds it: `fail` throws
   * ResourceLockedError, `wait` throws LockWaitRequired, which a SagaParticipant turns into a
   * parked command. Call it before the handler's writes or rely on the participant's savepoint.
   */
  async acquire(
    tx: Transaction<unknown>,
    owner: MessageEnvelope | LockOwner,
    resource: string,
    onLocked: OnLocked,
  ): Promise<void> {
    assertName('resource', resource);
    const who = 'sagaId' in owner ? owner : lockOwnerOf(owner);
    const now = this.clock.now();
    const inserted = await tx.sql.execute(
      this.d.insertIgnore(this.locks, ['resource', 'saga_id', 'saga_started_at', 'locked_at']),
      [resource, who.sagaId, who.sagaStartedAt, now],
    );
    if (inserted === 1) return;
    // Row-locked read: a concurrent release waits for this transaction, then sees our wait row.
    const holder = await this.holderForUpdate(tx.sql, resource);
    if (holder === undefined) {
      // Released between our insert and our read: take it now.
      await this.acquire(tx, who, resource, onLocked);
      return;
    }
    if (holder === who.sagaId) return;
    if (onLocked === 'fail') throw new ResourceLockedError(resource, holder);
    throw new LockWaitRequired(resource, holder);
  }

  /** Throws ResourceLockedError when any saga other than `sagaId` holds the resource (for HTTP handlers: 409). */
  async assertFree(exec: SqlExecutor, resource: string, sagaId?: string): Promise<void> {
    const holder = await this.holder(exec, resource);
    if (holder !== undefined && holder !== sagaId) throw new ResourceLockedError(resource, holder);
  }

  async holder(exec: SqlExecutor, resource: string): Promise<string | undefined> {
    const rows = await exec.query<{ saga_id: string }>(
      `SELECT saga_id FROM ${this.locks} WHERE resource = ?`,
      [resource],
    );
    return rows[0]?.saga_id;
  }

  private async holderForUpdate(exec: SqlExecutor, resource: string): Promise<string | undefined> {
    const rows = await exec.query<{ saga_id: string }>(
      `SELECT saga_id FROM ${this.locks} WHERE resource = ?${this.d.forUpdate}`,
      [resource],
    );
    return rows[0]?.saga_id;
  }

  /** Parks a saga command until `resource` is released. */
  async park(
    tx: Transaction<unknown>,
    resource: string,
    message: MessageEnvelope,
    barrierKey: string,
  ): Promise<void> {
    const who = lockOwnerOf(message);
    // A redelivered copy of a command that is waiting already (saga commands skip the inbox).
    const parked = await tx.sql.query(`SELECT 1 AS one FROM ${this.waits} WHERE resource = ? AND saga_id = ? AND barrier_key = ?`, [
      resource,
      who.sagaId,
      barrierKey,
    ]);
    if (parked.length > 0) return;
    await tx.sql.execute(
      `INSERT INTO ${this.waits} (resource, saga_id, saga_started_at, step, action, barrier_key, envelope, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        resource,
        who.sagaId,
        who.sagaStartedAt,
        message.headers[MessageHeader.sagaStep] ?? '',
        message.headers[MessageHeader.sagaAction] ?? '',
        barrierKey,
        JSON.stringify(message),
        this.clock.now(),
      ],
    );
  }

  /** Releases one lock of `sagaId` and re-sends the commands that waited for it. */
  async release(tx: Transaction<unknown>, resource: string, sagaId: string): Promise<boolean> {
    const released =
      (await tx.sql.execute(`DELETE FROM ${this.locks} WHERE resource = ? AND saga_id = ?`, [
        resource,
        sagaId,
      ])) === 1;
    if (released) await this.wakeWaiters(tx, resource);
    return released;
  }

  /**
   * The saga ended (completed, compensated or aborted): releases every lock it holds here and
   * drops its own waits. Returns the resources released.
   */
  async releaseSaga(tx: Transaction<unknown>, sagaId: string): Promise<string[]> {
    await writeLater(tx.sql, `DELETE FROM ${this.waits} WHERE saga_id = ?`, [sagaId]);
    // Most sagas hold no lock here when they end: guessed so (on PostgreSQL), their locks are
    // deleted by a queued statement whose count is read just before the commit, when it has
    // most likely come back with a later statement's answer. A count above zero voids the run;
    // the next run takes the locks one by one and wakes their waiters.
    const guess = `locks-released:${sagaId}`;
    const counted = tx.sql.enqueueCounted;
    if (counted && tx instanceof SqlStoreTransaction && tx.maySpeculate(guess)) {
      const deleted = counted.call(tx.sql, `DELETE FROM ${this.locks} WHERE saga_id = ?`, [sagaId]);
      tx.checkBeforeCommit(async () => {
        if ((await deleted()) > 0) tx.abandonSpeculation(guess);
      });
      return [];
    }
    const rows = await tx.sql.query<{ resource: string }>(
      `SELECT resource FROM ${this.locks} WHERE saga_id = ?${this.d.forUpdate}`,
      [sagaId],
    );
    for (const { resource } of rows) await this.release(tx, resource, sagaId);
    return rows.map((r) => r.resource);
  }

  /**
   * Every waiter of the resource gets its command again, as a new message (the inbox knows the
   * old id): the first to run takes the lock, the others park again. Locking read, so waits
   * committed by a concurrent acquire are seen (MySQL's repeatable read would hide them).
   */
  private async wakeWaiters(tx: Transaction<unknown>, resource: string): Promise<void> {
    const waiting = await tx.sql.query<Row>(
      `SELECT id, envelope FROM ${this.waits} WHERE resource = ? ORDER BY id${this.d.forUpdate}`,
      [resource],
    );
    for (const row of waiting) {
      const original = JSON.parse(String(row.envelope)) as MessageEnvelope;
      await tx.outbox.sendEnvelope({ ...original, id: newId(), createdAt: this.clock.now() });
      await tx.sql.execute(`DELETE FROM ${this.waits} WHERE id = ?`, [Number(row.id)]);
    }
  }

  /** Removes one wait if it is still there (a deadlock victim); returns it. */
  async takeWait(tx: Transaction<unknown>, waitId: number): Promise<LockWait | undefined> {
    const rows = await tx.sql.query<Row>(`SELECT * FROM ${this.waits} WHERE id = ?${this.d.forUpdate}`, [
      waitId,
    ]);
    if (!rows[0]) return undefined;
    await tx.sql.execute(`DELETE FROM ${this.waits} WHERE id = ?`, [waitId]);
    return waitFromRow(rows[0]);
  }

  async listLocks(exec: SqlExecutor): Promise<HeldLock[]> {
    const rows = await exec.query<Row>(
      `SELECT resource, saga_id, saga_started_at, locked_at FROM ${this.locks} ORDER BY locked_at, resource`,
    );
    return rows.map((r) => ({
      resource: String(r.resource),
      sagaId: String(r.saga_id),
      sagaStartedAt: Number(r.saga_started_at),
      lockedAt: Number(r.locked_at),
    }));
  }

  async listWaits(exec: SqlExecutor): Promise<LockWait[]> {
    const rows = await exec.query<Row>(`SELECT * FROM ${this.waits} ORDER BY id`);
    return rows.map(waitFromRow);
  }
}

function waitFromRow(r: Row): LockWait {
  return {
    id: Number(r.id),
    resource: String(r.resource),
    sagaId: String(r.saga_id),
    sagaStartedAt: Number(r.saga_started_at),
    step: String(r.step),
    action: String(r.action),
    barrierKey: String(r.barrier_key),
    envelope: JSON.parse(String(r.envelope)) as MessageEnvelope,
    createdAt: Number(r.created_at),
  };
}
