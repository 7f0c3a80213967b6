import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logging.js';
import { InProcessShardLocks } from './in-process-shard-locks.js';
import { ShardLeases, type ShardLockPort, type ShardLockSession } from './shard-leases.js';

const options = { rebalanceEveryMs: 0, logger: silentLogger };

function disjoint(...sets: number[][]): boolean {
  const all = sets.flat();
  return new Set(all).size === all.length;
}

describe('ShardLeases', () => {
  it('one relay takes every shard', async () => {
    const leases = new ShardLeases(new InProcessShardLocks(), { ...options, shards: 8 });
    expect(await leases.owned()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(leases.memberCount).toBe(1);
  });

  it('relays converge on fair, disjoint shares as they join and leave', async () => {
    const locks = new InProcessShardLocks();
    const [a, b, c] = [0, 1, 2].map(() => new ShardLeases(locks, { ...options, shards: 32 }));
    await a!.owned();
    await b!.owned(); // joins: a is over its share until it looks again
    await a!.owned(); // gives back what is over 16
    const [ownedA, ownedB] = [await a!.owned(), await b!.owned()];
    expect(ownedA).toHaveLength(16);
    expect(ownedB).toHaveLength(16);
    expect(disjoint(ownedA, ownedB)).toBe(true);

    for (let i = 0; i < 3; i++) for (const l of [a!, b!, c!]) await l.owned();
    const three = [await a!.owned(), await b!.owned(), await c!.owned()];
    expect(disjoint(...three)).toBe(true);
    expect(three.flat()).toHaveLength(32);
    for (const o of three) expect(o.length).toBeLessThanOrEqual(11);

    await c!.close();
    for (let i = 0; i < 2; i++) for (const l of [a!, b!]) await l.owned();
    expect((await a!.owned()).length + (await b!.owned()).length).toBe(32);
  });

  it('a relay without a member slot takes no share', async () => {
    const session: ShardLockSession = {
      members: async () => ({ live: 3, joined: false }),
      release: async () => {},
      tryLock: async (candidates, wanted) => candidates.slice(0, wanted),
      close: async () => {},
      destroy: () => {},
    };
    const leases = new ShardLeases({ open: async () => session }, options);
    expect(await leases.owned()).toEqual([]);
  });

  it('a numbered member prefers a block of shards of its own', async () => {
    const tried: number[][] = [];
    const port: ShardLockPort = {
      open: async () => ({
        members: async () => ({ live: 4, joined: true, slot: 2 }),
        release: async () => {},
        tryLock: async (candidates, wanted) => {
          tried.push([...candidates]);
          return candidates.slice(0, wanted);
        },
        close: async () => {},
        destroy: () => {},
      }),
    };
    const leases = new ShardLeases(port, { ...options, shards: 32 });
    expect(await leases.owned()).toEqual([16, 17, 18, 19, 20, 21, 22, 23]);
    expect(tried[0]![0]).toBe(16);
  });

  it('a broken lease connection drops every shard, and the next look reconnects', async () => {
    let opened = 0;
    let lose: ((error: unknown) => void) | undefined;
    const port: ShardLockPort = {
      open: async (onLost) => {
        opened++;
        lose = onLost;
        return {
          members: async () => ({ live: 1, joined: true }),
          release: async () => {},
          tryLock: async (candidates, wanted) => candidates.slice(0, wanted),
          close: async () => {},
          destroy: () => {},
        };
      },
    };
    const leases = new ShardLeases(port, { ...options, rebalanceEveryMs: 60_000, shards: 4 });
    expect(await leases.owned()).toHaveLength(4);
    lose!(new Error('connection reset'));
    expect(leases.current.size).toBe(0);
    expect(await leases.owned()).toHaveLength(4);
    expect(opened).toBe(2);
  });

  it('a failed look drops the session and is thrown to the relay', async () => {
    let destroyed = 0;
    const port: ShardLockPort = {
      open: async () => ({
        members: async () => {
          throw new Error('lock query failed');
        },
        release: async () => {},
        tryLock: async () => [],
        close: async () => {},
        destroy: () => void destroyed++,
      }),
    };
    const leases = new ShardLeases(port, options);
    await expect(leases.owned()).rejects.toThrow(/lock query failed/);
    expect(destroyed).toBe(1);
    expect(leases.isDue()).toBe(true);
  });
});
