import type { Clock, Logger } from '@concord/core';
import type { ShardLockPort, ShardLockSession, ShardMembership } from '@concord/core/spi';
import type { MysqlDriver } from './mysql-driver.js';
import { queryRows, runQuery } from './mysql-driver.js';
import { lockName } from './mysql-locks.js';
import type { MysqlConnection } from './mysql-pool.js';

export interface OutboxShardLeaseOptions {
  /** Outbox shards to share out. Default: core's OUTBOX_SHARDS (32). */
  readonly shards?: number;
  /** Most relay instances of one service. Default 32. */
  readonly maxMembers?: number;
  /** How often membership and shares are looked at again. Default 2 s. */
  readonly rebalanceEveryMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/**
 * Outbox shard locks for core's `ShardLeases`: `GET_LOCK`, held on one dedicated connection per
 * relay, so a relay that dies releases everything when its connection closes. Membership is a
 * lock too (one of `maxMembers` slots), so each relay knows how many share the work, and its
 * slot number picks it a block of shards of its own.
 */
export function mysqlShardLocks(driver: MysqlDriver<MysqlConnection>, maxMembers = 32): ShardLockPort {
  return {
    open: async () => new GetLockSession(await driver.connection(), driver.database, maxMembers),
  };
}

class GetLockSession implements ShardLockSession {
  private slot: number | undefined;
  private done = false;

  constructor(
    private readonly conn: MysqlConnection,
    private readonly database: string,
    private readonly maxMembers: number,
  ) {}

  private shardLock(shard: number): string {
    return lockName(this.database, `outbox-shard-${shard}`);
  }

  async members(): Promise<ShardMembership> {
    const members = Array.from({ length: this.maxMembers }, (_, i) => lockName(this.database, `relay-${i}`));
    const used = await selectEach<number | string | null>(this.conn, 'IS_USED_LOCK', members);
    for (let i = 0; i < used.length && this.slot === undefined; i++) {
      if (used[i] !== null) continue;
      const [got] = await selectEach<number | string | null>(this.conn, 'GET_LOCK', [members[i]!], ', 0');
      if (Number(got) === 1) {
        this.slot = i;
        used[i] = 'me';
      }
    }
    const live = used.filter((u) => u !== null).length;
    return this.slot === undefined ? { live, joined: false } : { live, joined: true, slot: this.slot };
  }

  async release(shards: readonly number[]): Promise<void> {
    await selectEach(this.conn, 'RELEASE_LOCK', shards.map((s) => this.shardLock(s)));
  }

  async tryLock(candidates: readonly number[], wanted: number): Promise<number[]> {
    const free = await selectEach<number | string | null>(this.conn, 'IS_FREE_LOCK', candidates.map((s) => this.shardLock(s)));
    const chosen = candidates.filter((_, i) => Number(free[i]) === 1).slice(0, wanted);
    const got = await selectEach<number | string | null>(this.conn, 'GET_LOCK', chosen.map((s) => this.shardLock(s)), ', 0');
    return chosen.filter((_, i) => Number(got[i]) === 1);
  }

  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    try {
      await runQuery(this.conn, 'SELECT RELEASE_ALL_LOCKS()');
      this.conn.release();
    } catch {
      this.conn.destroy();
    }
  }

  destroy(): void {
    if (this.done) return;
    this.done = true;
    this.conn.destroy();
  }
}

/** `SELECT fn(?) AS v0, fn(?) AS v1, ...` in one round trip. */
async function selectEach<T>(conn: MysqlConnection, fn: string, names: readonly string[], extra = ''): Promise<T[]> {
  if (names.length === 0) return [];
  const columns = names.map((_, i) => `${fn}(?${extra}) AS v${i}`).join(', ');
  const [row] = await queryRows<Record<string, T>>(conn, `SELECT ${columns}`, names);
  return names.map((_, i) => row![`v${i}`] as T);
}
