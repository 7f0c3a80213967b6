import { defaultLogger } from '../logging.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { OUTBOX_SHARDS } from '../sql/store-schema.js';

/** Who shares the shards right now, as one lease connection sees it. */
export interface ShardMembership {
  /** Relays live now, this one included. */
  readonly live: number;
  /** False when this relay could not join (no free member slot): it takes no share. */
  readonly joined: boolean;
  /** This relay's member number, when the database numbers members: it picks a block of shards of its own. */
  readonly slot?: number;
}

/**
 * One lease connection's locks, in a database's own terms (PostgreSQL advisory locks, MySQL
 * `GET_LOCK`). Every lock goes with the connection, so a dead relay frees its shards at once.
 */
export interface ShardLockSession {
  members(): Promise<ShardMembership>;
  release(shards: readonly number[]): Promise<void>;
  /** Tries `candidates` in order without waiting, until `wanted` are taken; returns those taken. */
  tryLock(candidates: readonly number[], wanted: number): Promise<number[]>;
  /** Releases every lock and gives the connection back. */
  close(): Promise<void>;
  /** The connection failed: drop it without waiting (the server frees its locks). */
  destroy(error: unknown): void;
}

/** Opens a lease connection and joins the members; `onLost` is told if the connection breaks later. */
export interface ShardLockPort {
  open(onLost: (error: unknown) => void): Promise<ShardLockSession>;
}

export interface ShardLeaseOptions {
  /** Outbox shards to share out. Default: OUTBOX_SHARDS (32). */
  readonly shards?: number;
  /** How often membership and shares are looked at again. Default 1 s. */
  readonly rebalanceEveryMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/**
 * Splits an outbox's shards between the polling relays of a service: each takes its fair share
 * (shards / live relays), gives back what is over it, and takes free shards below it. A shard's
 * rows (every key's) are therefore published by one relay at a time, in order. The locks are
 * the adapter's (`ShardLockPort`); the sharing is the same everywhere.
 */
export class ShardLeases {
  private session: ShardLockSession | undefined;
  private readonly held = new Set<number>();
  private members = 0;
  private lastRefresh = Number.NEGATIVE_INFINITY;
  private busy: Promise<unknown> = Promise.resolve();
  private readonly shards: number;
  private readonly offset: number;
  readonly rebalanceEveryMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(
    private readonly port: ShardLockPort,
    options: ShardLeaseOptions = {},
  ) {
    this.shards = options.shards ?? OUTBOX_SHARDS;
    this.rebalanceEveryMs = options.rebalanceEveryMs ?? 1_000;
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? defaultLogger()).child({ component: 'shard-leases' });
    // Without member numbers, relays start at random shards so they rarely race for the same lock.
    this.offset = Math.floor(Math.random() * this.shards);
  }

  /** Shards held right now; empty while the lease connection is down. */
  get current(): ReadonlySet<number> {
    return this.held;
  }

  get memberCount(): number {
    return this.members;
  }

  /** True when the next `owned()` looks at the shares again. */
  isDue(): boolean {
    return !this.session || this.held.size === 0 || this.clock.now() - this.lastRefresh >= this.rebalanceEveryMs;
  }

  /**
   * The shards this relay owns now, rebalancing first when it is time. Call it between rounds
   * only, so nothing is being published from a shard it gives back.
   */
  owned(): Promise<number[]> {
    return this.serially(async () => {
      if (this.isDue()) await this.rebalance();
      return [...this.held].sort((a, b) => a - b);
    });
  }

  /** Rebalances now. */
  refresh(): Promise<ReadonlySet<number>> {
    return this.serially(async () => {
      await this.rebalance();
      return this.held;
    });
  }

  /** Releases every lease (other relays take the shards on their next rebalance). */
  close(): Promise<void> {
    return this.serially(async () => {
      const session = this.session;
      this.session = undefined;
      this.held.clear();
      await session?.close();
    });
  }

  /** One at a time: the same session taking a lock twice may hold it twice, and one release would then not free it. */
  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.busy.then(fn);
    this.busy = result.catch(() => undefined);
    return result;
  }

  private async rebalance(): Promise<void> {
    const now = this.clock.now();
    try {
      if (!this.session) {
        this.held.clear();
        const session = await this.port.open((error) => this.lost(session, error));
        this.session = session;
      }
      const session = this.session;
      const { live, joined, slot } = await session.members();
      this.members = Math.max(1, live);
      if (!joined) this.logger.warn({ live }, 'no free relay slot; working without a share');
      const share = joined ? Math.ceil(this.shards / this.members) : 0;
      const start = slot === undefined ? this.offset : (slot * Math.floor(this.shards / this.members)) % this.shards;
      const preference = Array.from({ length: this.shards }, (_, i) => (start + i) % this.shards);
      if (this.held.size > share) {
        const rank = (s: number) => (s - start + this.shards) % this.shards;
        const extra = [...this.held].sort((a, b) => rank(b) - rank(a)).slice(0, this.held.size - share);
        await session.release(extra);
        for (const s of extra) this.held.delete(s);
        this.logger.debug({ released: extra, live }, 'released outbox shards over the fair share');
      }
      if (this.held.size < share) {
        const got = await session.tryLock(preference.filter((s) => !this.held.has(s)), share - this.held.size);
        for (const s of got) this.held.add(s);
        if (got.length > 0) this.logger.debug({ owned: [...this.held], live }, 'took outbox shards');
      }
      this.lastRefresh = now;
    } catch (error) {
      this.lost(this.session, error);
      throw error;
    }
  }

  /** The lease connection broke: every lock went with it. */
  private lost(session: ShardLockSession | undefined, error: unknown): void {
    if (!session || this.session !== session) return;
    this.session = undefined;
    if (this.held.size > 0) this.logger.warn({ err: error, shards: this.held.size }, 'shard lease connection lost; shards released');
    this.held.clear();
    session.destroy(error);
  }
}
