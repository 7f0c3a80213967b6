import { hashPartitionKey, type ShardLockPort, type ShardLockSession, type ShardMembership } from '@concord/core/spi';
import type { PostgresDriver } from './postgres-driver.js';
import type { PostgresPoolClient } from './postgres-pool.js';

/** The second key of the shared advisory lock every live relay instance holds. */
const MEMBER_KEY = -1;

/**
 * Outbox shard locks for core's `ShardLeases`: session-level advisory locks on one dedicated
 * connection. If the process dies, or its connection does, PostgreSQL releases the locks at
 * once: no lease table, no expiry to wait for. Each instance also holds a shared "member"
 * lock, so instances count each other in `pg_locks`.
 */
export function postgresShardLocks<C extends PostgresPoolClient>(
  driver: PostgresDriver<C>,
  /** Relays of different outboxes in one database must not share locks. */
  scope = `concord-relay:${driver.schema}`,
): ShardLockPort {
  const lockClass = hashPartitionKey(scope) | 0;
  return {
    async open(onLost) {
      const client = await driver.acquire();
      // Stays on a destroyed client: a late socket error must never go unhandled.
      const onError = (error: Error) => onLost(error);
      client.on('error', onError);
      try {
        await client.query({ text: 'SELECT pg_advisory_lock_shared($1, $2)', values: [lockClass, MEMBER_KEY] });
      } catch (error) {
        client.release(error instanceof Error ? error : true);
        throw error;
      }
      return new AdvisoryLockSession(driver, client, lockClass, onError);
    },
  };
}

class AdvisoryLockSession<C extends PostgresPoolClient> implements ShardLockSession {
  private released = false;

  constructor(
    private readonly driver: PostgresDriver<C>,
    private readonly client: C,
    private readonly lockClass: number,
    private readonly onError: (error: Error) => void,
  ) {}

  private get exec() {
    return this.driver.executor(this.client);
  }

  async members(): Promise<ShardMembership> {
    const rows = await this.exec.query<{ n: string | number }>(
      `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted ` +
        `AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) ` +
        `AND classid = ?::bigint::oid AND objid = ?::bigint::oid AND objsubid = 2`,
      [this.lockClass >>> 0, MEMBER_KEY >>> 0],
    );
    return { live: Math.max(1, Number(rows[0]?.n ?? 1)), joined: true };
  }

  async release(shards: readonly number[]): Promise<void> {
    for (const shard of shards) await this.exec.query('SELECT pg_advisory_unlock(?, ?)', [this.lockClass, shard]);
  }

  async tryLock(candidates: readonly number[], wanted: number): Promise<number[]> {
    const got: number[] = [];
    for (const shard of candidates) {
      if (got.length >= wanted) break;
      const rows = await this.exec.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(?, ?) AS ok', [this.lockClass, shard]);
      if (rows[0]?.ok) got.push(shard);
    }
    return got;
  }

  /** Releases every shard (the connection goes back to the pool clean). */
  async close(): Promise<void> {
    if (this.released) return;
    this.released = true;
    try {
      await this.client.query({ text: 'SELECT pg_advisory_unlock_all()' });
      this.client.removeListener('error', this.onError);
      this.client.release();
    } catch (error) {
      this.client.release(error instanceof Error ? error : true);
    }
  }

  destroy(error: unknown): void {
    if (this.released) return;
    this.released = true;
    try {
      this.client.release(error instanceof Error ? error : true);
    } catch {
      // already released by a racing error
    }
  }
}
