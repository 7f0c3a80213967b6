import { ConcordAdapterError, ConcordErrorCode } from '@concord/core';

/** Reasons carried by this package's errors, stable like `code`; match on them, not on text. */
export const PostgresErrorReason = {
  COMMIT_OUTCOME_UNKNOWN: 'COMMIT_OUTCOME_UNKNOWN',
  CONNECTION_UNAVAILABLE: 'CONNECTION_UNAVAILABLE',
  REPLICATION_SLOT_BUSY: 'REPLICATION_SLOT_BUSY',
  REPLICATION_SETUP_FAILED: 'REPLICATION_SETUP_FAILED',
  /** `wal_level` is not `logical` (or no replication slots are allowed): WAL tailing cannot work. */
  LOGICAL_REPLICATION_OFF: 'LOGICAL_REPLICATION_OFF',
} as const;
export type PostgresErrorReason = (typeof PostgresErrorReason)[keyof typeof PostgresErrorReason];

/** Base of this package's errors: a core `code` plus a PostgreSQL-specific `reason`. */
export class PostgresStoreError extends ConcordAdapterError<PostgresErrorReason> {
  constructor(code: ConcordErrorCode, reason: PostgresErrorReason, message: string, options?: { cause?: unknown }) {
    super(code, reason, message, options);
    this.name = 'PostgresStoreError';
  }
}

/**
 * The connection broke while COMMIT was in flight: the transaction may or may not have
 * committed. Not retried automatically; the caller checks (or retries idempotently, with
 * its own caller-assigned key).
 */
export class CommitOutcomeUnknownError extends PostgresStoreError {
  constructor(cause: unknown) {
    super(
      ConcordErrorCode.ILLEGAL_STATE,
      PostgresErrorReason.COMMIT_OUTCOME_UNKNOWN,
      `connection lost during COMMIT; the transaction may have committed: ${(cause as Error)?.message ?? cause}`,
      { cause },
    );
    this.name = 'CommitOutcomeUnknownError';
  }
}

/** No connection could be made within the driver's reconnect budget. */
export class ConnectionUnavailableError extends PostgresStoreError {
  constructor(waitedMs: number, cause: unknown) {
    super(
      ConcordErrorCode.TIMEOUT,
      PostgresErrorReason.CONNECTION_UNAVAILABLE,
      `no PostgreSQL connection after ${waitedMs} ms: ${(cause as Error)?.message ?? cause}`,
      { cause },
    );
    this.name = 'ConnectionUnavailableError';
  }
}

/** Another process is streaming from the replication slot (only one reader per slot). */
export class ReplicationSlotBusyError extends PostgresStoreError {
  constructor(slot: string, cause?: unknown) {
    super(
      ConcordErrorCode.ILLEGAL_STATE,
      PostgresErrorReason.REPLICATION_SLOT_BUSY,
      `replication slot ${slot} is in use by another process`,
      { cause },
    );
    this.name = 'ReplicationSlotBusyError';
  }
}

/**
 * The server cannot stream logical changes: WAL tailing needs `wal_level=logical` and at least
 * one free replication slot. Thrown by the tailing relay's `prepare()` and logged at error level
 * by its loop, instead of waiting silently for changes that never come.
 */
export class LogicalReplicationOffError extends PostgresStoreError {
  constructor(
    readonly setting: 'wal_level' | 'max_replication_slots',
    readonly value: string,
  ) {
    super(
      ConcordErrorCode.ILLEGAL_STATE,
      PostgresErrorReason.LOGICAL_REPLICATION_OFF,
      setting === 'wal_level'
        ? `WAL tailing needs wal_level=logical, but the server has wal_level=${value}: run ` +
            `ALTER SYSTEM SET wal_level = logical and restart PostgreSQL, or use createPostgresRelay({ mode: 'polling' })`
        : `WAL tailing needs a replication slot, but the server has max_replication_slots=${value}: raise it ` +
            `(ALTER SYSTEM SET max_replication_slots = 10) and restart PostgreSQL, or use the polling relay`,
    );
    this.name = 'LogicalReplicationOffError';
  }
}

/** Throws LogicalReplicationOffError unless the server's settings allow logical decoding. */
export function checkLogicalReplication(settings: { readonly walLevel: string; readonly maxReplicationSlots: string | number }): void {
  if (settings.walLevel !== 'logical') throw new LogicalReplicationOffError('wal_level', settings.walLevel);
  if (Number(settings.maxReplicationSlots) < 1) {
    throw new LogicalReplicationOffError('max_replication_slots', String(settings.maxReplicationSlots));
  }
}

export function isPostgresStoreError(error: unknown, reason?: PostgresErrorReason): error is PostgresStoreError {
  return error instanceof PostgresStoreError && (reason === undefined || error.reason === reason);
}

/** SQLSTATE of a pg error, looking through `cause` chains that wrap it. */
export function sqlState(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** Serialization failure or deadlock: the whole transaction can run again. */
export function isRetryableTransactionError(error: unknown): boolean {
  const state = sqlState(error);
  return state === '40001' || state === '40P01';
}

const CONNECTION_MESSAGES = [
  'Connection terminated',
  'not queryable',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'the database system is shutting down',
  'the database system is starting up',
  'timeout exceeded when trying to connect',
  'Connection ended',
];

/** The connection (or the server) went away, as opposed to the statement being wrong. */
export function isConnectionError(error: unknown): boolean {
  const state = sqlState(error);
  // 08: connection exception; 57P01-03: admin/crash shutdown, cannot connect now.
  if (state?.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03') return true;
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const errno = (e as { code?: unknown }).code;
    if (typeof errno === 'string' && /^E[A-Z]+$/.test(errno) && CONNECTION_MESSAGES.includes(errno)) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && CONNECTION_MESSAGES.some((m) => message.includes(m))) return true;
  }
  return false;
}

/** The client refused the statement before sending it, so the server never saw it. */
export function isNotSentError(error: unknown): boolean {
  const message = (error as { message?: unknown })?.message;
  return typeof message === 'string' && message.includes('is not queryable');
}
