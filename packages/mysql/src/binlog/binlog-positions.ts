import { runMigrations, type Migration, type SqlExecutor } from '@concord/core';
import type { MysqlDriver } from '../mysql-driver.js';
import type { MysqlConnection } from '../mysql-pool.js';
import type { BinlogPosition } from './binlog-settings.js';

export const BINLOG_RELAY_COMPONENT = 'mysql-binlog-relay';

/** Where each binlog-tailing relay of the service has published up to. */
export const binlogRelayMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'binlog positions',
    up: (d) => [
      `CREATE TABLE ${d.table('binlog_positions')} (relay_name ${d.types.key} NOT NULL PRIMARY KEY, ` +
        `binlog_file ${d.types.key} NOT NULL, binlog_position ${d.types.bigint} NOT NULL, updated_at ${d.types.bigint} NOT NULL)`,
    ],
  },
];

export class BinlogPositions {
  constructor(private readonly driver: MysqlDriver<MysqlConnection>) {}

  private get table(): string {
    return this.driver.dialect.table('binlog_positions');
  }

  migrate(): Promise<number[]> {
    return runMigrations(this.driver, BINLOG_RELAY_COMPONENT, binlogRelayMigrations);
  }

  async load(relay: string): Promise<BinlogPosition | undefined> {
    const rows = await this.driver.run((exec) =>
      exec.query<{ binlog_file: string; binlog_position: string }>(
        `SELECT binlog_file, binlog_position FROM ${this.table} WHERE relay_name = ?`,
        [relay],
      ),
    );
    return rows[0] ? { file: rows[0].binlog_file, position: Number(rows[0].binlog_position) } : undefined;
  }

  /** Saves on `exec`, so the caller can commit it with other work (deleting published rows). */
  async save(exec: SqlExecutor, relay: string, at: BinlogPosition, now: number): Promise<void> {
    const updated = await exec.execute(
      `UPDATE ${this.table} SET binlog_file = ?, binlog_position = ?, updated_at = ? WHERE relay_name = ?`,
      [at.file, at.position, now, relay],
    );
    if (updated === 0) {
      await exec.execute(
        `INSERT INTO ${this.table} (relay_name, binlog_file, binlog_position, updated_at) VALUES (?, ?, ?, ?)`,
        [relay, at.file, at.position, now],
      );
    }
  }

  async forget(relay: string): Promise<void> {
    await this.driver.run((exec) => exec.execute(`DELETE FROM ${this.table} WHERE relay_name = ?`, [relay]));
  }
}
