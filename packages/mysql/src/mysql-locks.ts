import { systemClock, type Clock } from '@concord/core';
import { hashPartitionKey } from '@concord/core/spi';
import type { MysqlDriver } from './mysql-driver.js';
import { queryRows, runQuery } from './mysql-driver.js';
import type { MysqlConnection } from './mysql-pool.js';

/**
 * A server-wide name for `GET_LOCK`, scoped to one service's database. Lock names are global
 * to the server and limited to 64 characters, so a long database name is hashed.
 */
export function lockName(database: string, purpose: string): string {
  const plain = `concord:${database}:${purpose}`;
  if (plain.length <= 64) return plain;
  const hashed = `concord:${hashPartitionKey(database).toString(36)}:${purpose}`;
  return hashed.length <= 64 ? hashed : `concord:${hashPartitionKey(`${database}:${purpose}`).toString(36)}`;
}

/**
 * A `GET_LOCK` held on a connection of its own for as long as the holder works: the server
 * frees it when that connection ends, so a crashed holder never keeps it.
 */
export class SessionLock {
  private constructor(
    readonly name: string,
    private conn: MysqlConnection | undefined,
  ) {}

  /** Waits for the lock (checking `signal` every `pollSeconds`); undefined if aborted first. */
  static async acquire(
    driver: MysqlDriver<MysqlConnection>,
    name: string,
    options: { signal?: AbortSignal; pollSeconds?: number; onWait?: () => void; clock?: Clock } = {},
  ): Promise<SessionLock | undefined> {
    const conn = await driver.connection();
    try {
      let waited = false;
      while (!options.signal?.aborted) {
        const [row] = await queryRows<{ got: unknown }>(conn, 'SELECT GET_LOCK(?, ?) AS got', [name, options.pollSeconds ?? 1]);
        if (Number(row?.got) === 1) return new SessionLock(name, conn);
        if (!waited) options.onWait?.();
        waited = true;
        // GET_LOCK already waited pollSeconds; yield so an abort can be seen.
        await (options.clock ?? systemClock).sleep(0, options.signal);
      }
      conn.release();
      return undefined;
    } catch (error) {
      conn.destroy();
      throw error;
    }
  }

  /** Throws when the lock is no longer this connection's (the connection died, say). */
  async check(): Promise<void> {
    if (!this.conn) throw new Error(`lock ${this.name} was released`);
    const [row] = await queryRows<{ mine: unknown }>(this.conn, 'SELECT IS_USED_LOCK(?) = CONNECTION_ID() AS mine', [this.name]);
    if (Number(row?.mine) !== 1) throw new Error(`lock ${this.name} is no longer held`);
  }

  async release(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    if (!conn) return;
    try {
      await runQuery(conn, 'SELECT RELEASE_LOCK(?)', [this.name]);
      conn.release();
    } catch {
      conn.destroy();
    }
  }
}
