import { ConcordAdapterError, ConcordErrorCode } from '@concord/core';

/** Why a MySQL/MariaDB server or pool cannot serve Concord as configured. Match on `reason`. */
export const MysqlConfigReason = {
  /** The pool reports matched rows for `INSERT ... ON DUPLICATE KEY UPDATE` (CLIENT_FOUND_ROWS). */
  FOUND_ROWS_FLAG: 'FOUND_ROWS_FLAG',
  /** The server writes no binary log (`log_bin` is OFF). */
  BINLOG_DISABLED: 'BINLOG_DISABLED',
  /** `binlog_format` is STATEMENT or MIXED: row values cannot be read back from the log. */
  BINLOG_NOT_ROW: 'BINLOG_NOT_ROW',
  /** The account may not read the binary log (needs REPLICATION SLAVE and REPLICATION CLIENT). */
  BINLOG_PRIVILEGES: 'BINLOG_PRIVILEGES',
  /** An outbox insert reached the binary log as a statement (a session switched binlog_format). */
  STATEMENT_LOGGED_OUTBOX: 'STATEMENT_LOGGED_OUTBOX',
  /** No database was named in the URI or selected on the pool. */
  NO_DATABASE: 'NO_DATABASE',
} as const;
export type MysqlConfigReason = (typeof MysqlConfigReason)[keyof typeof MysqlConfigReason];

/**
 * The server or the pool is configured in a way Concord cannot work with safely. It is an
 * `ILLEGAL_STATE` ConcordError; `reason` says which setting, the message says how to fix it.
 */
export class MysqlConfigError extends ConcordAdapterError<MysqlConfigReason> {
  constructor(reason: MysqlConfigReason, message: string, options?: { cause?: unknown }) {
    super(ConcordErrorCode.ILLEGAL_STATE, reason, message, options);
    this.name = 'MysqlConfigError';
  }
}

export function isMysqlConfigError(error: unknown, reason?: MysqlConfigReason): error is MysqlConfigError {
  return error instanceof MysqlConfigError && (reason === undefined || error.reason === reason);
}

/** The server's error number on a mysql2 error, if there is one. */
export function mysqlErrno(error: unknown): number | undefined {
  const errno = (error as { errno?: unknown } | null)?.errno;
  return typeof errno === 'number' ? errno : undefined;
}

export const MysqlErrno = {
  LOCK_WAIT_TIMEOUT: 1205,
  LOCK_DEADLOCK: 1213,
  /** MariaDB 11.x with innodb_snapshot_isolation: "Record has changed since last read". */
  RECORD_CHANGED: 1020,
  DUP_KEYNAME: 1061,
  SPECIFIC_ACCESS_DENIED: 1227,
  ACCESS_DENIED: 1045,
  BAD_DB: 1049,
  MASTER_FATAL_READING_BINLOG: 1236,
} as const;

/** Errors after which InnoDB has rolled back (or should roll back) the whole transaction. */
export function isRetryableTransactionError(error: unknown): boolean {
  const errno = mysqlErrno(error);
  return (
    errno === MysqlErrno.LOCK_DEADLOCK || errno === MysqlErrno.LOCK_WAIT_TIMEOUT || errno === MysqlErrno.RECORD_CHANGED
  );
}
