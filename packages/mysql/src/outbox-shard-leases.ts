import { defaultLogger, systemClock, type Clock, type Logger } from '@concord/core';
import { OUTBOX_SHARDS } from '@concord/core/spi';
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
 * Splits a service's outbox shards between its polling relays with `GET_LOCK`, held on one
 * dedicated connection per relay: a shard belongs to whoever holds its lock, and a relay that
 * dies releases everything when its connection closes. Membership is a lock too (one of
 * `maxMembers` slots), so each relay knows how many share the work and takes its fair share.
 * Every shard's rows (every partition key's) are therefore published by one relay at a time.
 */
export class OutboxShardLeases {
  private conn: MysqlConnection | undefined;
  private slot: number | undefined;
  private readonly held = new Set<number>();
  private lastRebalance = Number.NEGATIVE_INFINITY;
  private busy: Promise<unknown> = Promise.resolve();
  private readonly shards: number;
  private readonly maxMembers: number;
  private readonly everyMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(
    private readonly driver: MysqlDriver<MysqlConnection>,
    options: OutboxShardLeaseOptions = {},
  ) {
    this.shards = options.shards ?? OUTBOX_SHARDS;
    this.maxMembers = options.maxMembers ?? 32;
    this.everyMs = options.rebalanceEveryMs ?? 2_000;
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? defaultLogger()).child({ component: 'outbox-shard-leases' });
  }

  private shardLock(shard: number): string {
    return lockName(this.driver.database, `outbox-shard-${shard}`);
  }

  private memberLock(slot: number): string {
    return lockName(this.driver.database, `relay-${slot}`);
  }

  /** The shards this relay owns now, rebalancing first when it is time. */
  owned(): Promise<number[]> {
    // One at a time: the same session taking a lock twice holds it twice, and one release
    // would then not free it.
    const result = this.busy.then(() => this.ownedNow());
    this.busy = result.catch(() => undefined);
    return result;
  }

  private async ownedNow(): Promise<number[]> {
    const now = this.clock.now();
    if (!this.conn || now - this.lastRebalance >= this.everyMs) {
      try {
        await this.rebalance();
        this.lastRebalance = now;
      } catch (error) {
        this.drop();
        throw error;
      }
    }
    return [...this.held].sort((a, b) => a - b);
  }

  private async rebalance(): Promise<void> {
    if (!this.conn) {
      this.conn = await this.driver.connection();
      this.held.clear();
      this.slot = undefined;
    }
    const conn = this.conn;
    const members = Array.from({ length: this.maxMembers }, (_, i) => this.memberLock(i));
    const used = await selectEach<number | string | null>(conn, 'IS_USED_LOCK', members);
    if (this.slot === undefined) {
      for (let i = 0; i < used.length && this.slot === undefined; i++) {
        if (used[i] !== null) continue;
        const [got] = await selectEach<number | string | null>(conn, 'GET_LOCK', [members[i]!], ', 0');
        if (Number(got) === 1) {
          this.slot = i;
          used[i] = 'me';
        }
      }
      if (this.slot === undefined) this.logger.warn({ maxMembers: this.maxMembers }, 'no free relay slot; working without a share');
    }
    const live = Math.max(1, used.filter((u) => u !== null).length);
    const share = this.slot === undefined ? 0 : Math.ceil(this.shards / live);
    // Preferred shards: a block of its own per slot, so relays rarely race for the same lock.
    const start = ((this.slot ?? 0) * Math.floor(this.shards / live)) % this.shards;
    const preference = Array.from({ length: this.shards }, (_, i) => (start + i) % this.shards);

    if (this.held.size > share) {
      const extra = [...this.held].sort((a, b) => preference.indexOf(b) - preference.indexOf(a)).slice(0, this.held.size - share);
      await selectEach(conn, 'RELEASE_LOCK', extra.map((s) => this.shardLock(s)));
      for (const s of extra) this.held.delete(s);
      this.logger.debug({ released: extra, live }, 'released outbox shards over the fair share');
    }
    if (this.held.size < share) {
      const candidates = preference.filter((s) => !this.held.has(s));
      const free = await selectEach<number | string | null>(conn, 'IS_FREE_LOCK', candidates.map((s) => this.shardLock(s)));
      const wanted = candidates.filter((_, i) => Number(free[i]) === 1).slice(0, share - this.held.size);
      if (wanted.length > 0) {
        const got = await selectEach<number | string | null>(conn, 'GET_LOCK', wanted.map((s) => this.shardLock(s)), ', 0');
        wanted.forEach((s, i) => Number(got[i]) === 1 && this.held.add(s));
        this.logger.debug({ owned: [...this.held], live }, 'took outbox shards');
      }
    }
  }

  /** Forgets the connection (it failed): the server frees its locks when it notices. */
  private drop(): void {
    const conn = this.conn;
    this.conn = undefined;
    this.held.clear();
    this.slot = undefined;
    conn?.destroy();
  }

  /** Releases every lease (other relays take the shards on their next rebalance). */
  async close(): Promise<void> {
    await this.busy;
    const conn = this.conn;
    if (!conn) return;
    this.conn = undefined;
    this.held.clear();
    this.slot = undefined;
    try {
      await runQuery(conn, 'SELECT RELEASE_ALL_LOCKS()');
      conn.release();
    } catch {
      conn.destroy();
    }
  }
}

/** `SELECT fn(?) AS v0, fn(?) AS v1, ...` in one round trip. */
async function selectEach<T>(conn: MysqlConnection, fn: string, names: readonly string[], extra = ''): Promise<T[]> {
  if (names.length === 0) return [];
  const columns = names.map((_, i) => `${fn}(?${extra}) AS v${i}`).join(', ');
  const [row] = await queryRows<Record<string, T>>(conn, `SELECT ${columns}`, names);
  return names.map((_, i) => row![`v${i}`] as T);
}
