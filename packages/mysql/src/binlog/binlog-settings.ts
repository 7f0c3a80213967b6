import type { SqlExecutor } from '@concord/core';
import { MysqlConfigError, MysqlConfigReason, mysqlErrno, MysqlErrno } from '../mysql-errors.js';

export interface BinlogPosition {
  readonly file: string;
  readonly position: number;
}

interface MasterStatus {
  File: string;
  Position: number | string;
  Binlog_Do_DB?: string;
  Binlog_Ignore_DB?: string;
}

/** The server's current end of the binary log (where a new reader would start). */
export async function currentBinlogEnd(exec: SqlExecutor): Promise<BinlogPosition> {
  const status = await binlogStatus(exec);
  return { file: status.File, position: Number(status.Position) };
}

async function binlogStatus(exec: SqlExecutor): Promise<MasterStatus> {
  let rows: MasterStatus[];
  try {
    rows = await exec.query<MasterStatus>('SHOW MASTER STATUS');
  } catch (error) {
    const errno = mysqlErrno(error);
    if (errno === MysqlErrno.SPECIFIC_ACCESS_DENIED || errno === MysqlErrno.ACCESS_DENIED) throw privileges(error);
    // MySQL 8.4 renamed it; MariaDB and MySQL 8.0 know only the old name.
    if (errno !== 1064) throw error;
    rows = await exec.query<MasterStatus>('SHOW BINARY LOG STATUS');
  }
  if (!rows[0]) {
    throw new MysqlConfigError(MysqlConfigReason.BINLOG_DISABLED, 'the server writes no binary log: set log_bin (and binlog_format = ROW) and restart it');
  }
  return rows[0];
}

function privileges(cause: unknown): MysqlConfigError {
  return new MysqlConfigError(
    MysqlConfigReason.BINLOG_PRIVILEGES,
    'the account may not read the binary log: GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO it ' +
      '(MariaDB 10.5+: REPLICATION SLAVE, BINLOG MONITOR)',
    { cause },
  );
}

/**
 * Refuses what log tailing cannot work with: no binary log, a statement-based or mixed one (an
 * INSERT logged as SQL text does not say which rows it wrote), a filter that leaves the
 * service's database out, or an account without the right to read the log.
 */
export async function verifyBinlogSettings(exec: SqlExecutor, database: string): Promise<void> {
  const [vars] = await exec.query<{ log_bin: unknown; format: string; image: string }>(
    'SELECT @@GLOBAL.log_bin AS log_bin, @@GLOBAL.binlog_format AS format, @@GLOBAL.binlog_row_image AS image',
  );
  if (Number(vars?.log_bin) !== 1) {
    throw new MysqlConfigError(
      MysqlConfigReason.BINLOG_DISABLED,
      'log_bin is OFF: binlog tailing needs the binary log (log_bin = mysql-bin, binlog_format = ROW, server_id set), ' +
        "or use createMysqlRelay({ mode: 'polling' })",
    );
  }
  if (String(vars?.format).toUpperCase() !== 'ROW') {
    throw new MysqlConfigError(
      MysqlConfigReason.BINLOG_NOT_ROW,
      `binlog_format is ${String(vars?.format)}: binlog tailing needs ROW. A statement-based (or MIXED) log records ` +
        'the SQL text of an INSERT, not the row values it wrote, so the outbox rows cannot be read back from it. ' +
        "Set binlog_format = ROW, or use createMysqlRelay({ mode: 'polling' })",
    );
  }
  const status = await binlogStatus(exec);
  const listed = (list: string | undefined) => (list ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const only = listed(status.Binlog_Do_DB);
  if ((only.length > 0 && !only.includes(database)) || listed(status.Binlog_Ignore_DB).includes(database)) {
    throw new MysqlConfigError(
      MysqlConfigReason.BINLOG_DISABLED,
      `binlog_do_db / binlog_ignore_db leave database ${database} out of the binary log`,
    );
  }
}

/** Whether an error from the binlog stream says the account lacks REPLICATION SLAVE. */
export function binlogPrivilegeError(error: unknown): MysqlConfigError | undefined {
  const errno = mysqlErrno(error);
  return errno === MysqlErrno.SPECIFIC_ACCESS_DENIED || errno === MysqlErrno.ACCESS_DENIED ? privileges(error) : undefined;
}
