import { describe, expect, it } from 'vitest';
import type { SqlExecutor } from '@concord/core';
import { MysqlConfigError, MysqlConfigReason } from '../mysql-errors.js';
import { verifyBinlogSettings } from './binlog-settings.js';

/** What the server answers, scripted: the real-server refusals are in mysql.chaos.test.ts. */
function server(vars: { log_bin: string; format: string }, status: Record<string, string>[] = [{ File: 'b.000001', Position: '4' }]): SqlExecutor {
  return {
    query: async <R>(sql: string) => (sql.startsWith('SELECT @@GLOBAL') ? [{ ...vars, image: 'FULL' }] : status) as R[],
    execute: async () => 0,
  };
}

async function reason(exec: SqlExecutor): Promise<string | undefined> {
  const error = await verifyBinlogSettings(exec, 'orders').then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error === undefined) return undefined;
  expect(error).toBeInstanceOf(MysqlConfigError);
  return (error as MysqlConfigError).reason;
}

describe('binlog settings check', () => {
  it('accepts log_bin on with ROW format', async () => {
    expect(await reason(server({ log_bin: '1', format: 'ROW' }))).toBeUndefined();
  });

  it('refuses log_bin off', async () => {
    expect(await reason(server({ log_bin: '0', format: 'ROW' }))).toBe(MysqlConfigReason.BINLOG_DISABLED);
  });

  it('refuses STATEMENT and MIXED formats', async () => {
    expect(await reason(server({ log_bin: '1', format: 'STATEMENT' }))).toBe(MysqlConfigReason.BINLOG_NOT_ROW);
    expect(await reason(server({ log_bin: '1', format: 'MIXED' }))).toBe(MysqlConfigReason.BINLOG_NOT_ROW);
  });

  it('refuses binlog_do_db / binlog_ignore_db filters that leave the database out', async () => {
    const on = { log_bin: '1', format: 'ROW' };
    expect(await reason(server(on, [{ File: 'b.1', Position: '4', Binlog_Do_DB: 'billing', Binlog_Ignore_DB: '' }]))).toBe(
      MysqlConfigReason.BINLOG_DISABLED,
    );
    expect(await reason(server(on, [{ File: 'b.1', Position: '4', Binlog_Do_DB: 'billing,orders', Binlog_Ignore_DB: '' }]))).toBeUndefined();
    expect(await reason(server(on, [{ File: 'b.1', Position: '4', Binlog_Do_DB: '', Binlog_Ignore_DB: 'orders' }]))).toBe(
      MysqlConfigReason.BINLOG_DISABLED,
    );
  });

  it('treats an empty SHOW MASTER STATUS as no binary log', async () => {
    expect(await reason(server({ log_bin: '1', format: 'ROW' }, []))).toBe(MysqlConfigReason.BINLOG_DISABLED);
  });
});
