import type { ShardLockPort, ShardLockSession } from './shard-leases.js';

/**
 * Shard locks for relays of one process (an embedded database such as SQLite, which one
 * process writes): `ShardLeases` over it let several relay instances share the shards there.
 * Nothing outlives the process, as nothing of an embedded store's relay does.
 */
export class InProcessShardLocks implements ShardLockPort {
  private readonly owners = new Map<number, object>();
  private readonly sessions = new Set<object>();

  async open(): Promise<ShardLockSession> {
    const me = {};
    this.sessions.add(me);
    const leave = () => {
      for (const [shard, owner] of this.owners) if (owner === me) this.owners.delete(shard);
      this.sessions.delete(me);
    };
    return {
      members: async () => ({ live: this.sessions.size, joined: true }),
      release: async (shards) => {
        for (const shard of shards) if (this.owners.get(shard) === me) this.owners.delete(shard);
      },
      tryLock: async (candidates, wanted) => {
        const got: number[] = [];
        for (const shard of candidates) {
          if (got.length >= wanted) break;
          if (this.owners.has(shard)) continue;
          this.owners.set(shard, me);
          got.push(shard);
        }
        return got;
      },
      close: async () => leave(),
      destroy: leave,
    };
  }
}
