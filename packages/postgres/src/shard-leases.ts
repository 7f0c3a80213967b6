import { type Logger } from '@concord/core';
import { hashPartitionKey } from '@concord/core/spi';
import type { PostgresDriver } from './postgres-driver.js';
import type { PostgresPoolClient } from './postgres-pool.js';

/** The second key of the shared advisory lock every live relay instance holds. */
const MEMBER_KEY = -1;

/**
 * Outbox shards leased with session-level advisory locks on one dedicated connection. If the
 * process dies, or its connection does, PostgreSQL releases the locks at once: no lease
 * table, no expiry to wait for. Each instance also holds a shared "member" lock, so
 * instances count each other in `pg_locks` and each takes its fair share of the shards.
 */
export class ShardLeases<C extends PostgresPoolClient> {
  private client: C | undefined;
  private onError: ((error: Error) => void) | undefined;
  private readonly owned = new Set<number>();
  private readonly lockClass: number;
  private readonly offset: number;
  private members = 0;

  constructor(
    private readonly driver: PostgresDriver<C>,
    private readonly shards: number,
    private readonly logger: Logger,
    /** Relays of different outboxes in one database must not share locks. */
    scope = `concord-relay:${driver.schema}`,
  ) {
    this.lockClass = hashPartitionKey(scope) | 0;
    this.offset = Math.floor(Math.random() * shards);
  }

  /** Shards held right now; empty while the lease connection is down. */
  get current(): ReadonlySet<number> {
    return this.owned;
  }

  get memberCount(): number {
    return this.members;
  }

  /**
   * Connects if needed, gives back shards above the fair share and takes free ones below
   * it. Call it between rounds only, so nothing is being published from a shard it releases.
   */
  async refresh(): Promise<ReadonlySet<number>> {
    const client = this.client ?? (await this.connect());
    try {
      const exec = this.driver.executor(client);
      const rows = await exec.query<{ n: string | number }>(
        `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted ` +
          `AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) ` +
          `AND classid = ?::bigint::oid AND objid = ?::bigint::oid AND objsubid = 2`,
        [this.lockClass >>> 0, MEMBER_KEY >>> 0],
      );
      this.members = Math.max(1, Number(rows[0]?.n ?? 1));
      const share = Math.ceil(this.shards / this.members);
      for (const shard of [...this.owned].sort((a, b) => b - a)) {
        if (this.owned.size <= share) break;
        await exec.query('SELECT pg_advisory_unlock(?, ?)', [this.lockClass, shard]);
        this.owned.delete(shard);
      }
      for (let i = 0; i < this.shards && this.owned.size < share; i++) {
        const shard = (this.offset + i) % this.shards;
        if (this.owned.has(shard)) continue;
        const got = await exec.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(?, ?) AS ok', [this.lockClass, shard]);
        if (got[0]?.ok) this.owned.add(shard);
      }
      return this.owned;
    } catch (error) {
      this.lost(error);
      throw error;
    }
  }

  private async connect(): Promise<C> {
    const client = await this.driver.acquire();
    // Stays on a destroyed client: a late socket error must never go unhandled.
    this.onError = (error) => {
      if (this.client === client) this.lost(error);
    };
    client.on('error', this.onError);
    try {
      await client.query({ text: 'SELECT pg_advisory_lock_shared($1, $2)', values: [this.lockClass, MEMBER_KEY] });
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      throw error;
    }
    this.client = client;
    return client;
  }

  /** The connection broke: every lock went with it. */
  private lost(error: unknown): void {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    if (this.owned.size > 0) this.logger.warn({ err: error, shards: this.owned.size }, 'shard lease connection lost; shards released');
    this.owned.clear();
    try {
      client.release(error instanceof Error ? error : true);
    } catch {
      // already released by a racing error
    }
  }

  /** Releases every shard (the connection goes back to the pool clean). */
  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.owned.clear();
    if (!client) return;
    try {
      await client.query({ text: 'SELECT pg_advisory_unlock_all()' });
      if (this.onError) client.removeListener('error', this.onError);
      client.release();
    } catch (error) {
      client.release(error instanceof Error ? error : true);
    }
  }
}
