import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logging.js';
import type { DeliveryBatch } from '../ports/broker.js';
import { systemClock } from '../ports/clock.js';
import { testEnvelope } from '../testing/broker-conformance.js';
import { InMemoryConsumerGroup } from '../testing/in-memory-consumer-group.js';
import { eventually } from '../testing/wait.js';
import { ConsumerGroupMember } from './consumer-group-member.js';
import { partitionName, type PartitionRef } from './ports.js';

const leaseMs = 300;
const partitions: PartitionRef[] = Array.from({ length: 6 }, (_, p) => ({ channel: 'orders', partition: p }));

/** Records each partition's deliveries and the order of every key's first ones. */
class Seen {
  readonly byKey = new Map<string, number[]>();
  readonly ids = new Set<string>();
  record(batch: DeliveryBatch): void {
    for (const m of batch.messages) {
      if (this.ids.has(m.id)) continue;
      this.ids.add(m.id);
      const { key, seq } = m.payload as { key: string; seq: number };
      this.byKey.set(key, [...(this.byKey.get(key) ?? []), seq]);
    }
  }
  assertInOrder(perKey: number): void {
    for (const [, seqs] of this.byKey) expect(seqs).toEqual(Array.from({ length: perKey }, (_, i) => i));
  }
}

function publish(group: InMemoryConsumerGroup, perKey: number, from = 0): void {
  for (let seq = from; seq < from + perKey; seq++) {
    for (const p of partitions) group.append(p, [testEnvelope(p.channel, `k${p.partition}`, seq)]);
  }
}

describe('ConsumerGroupMember', () => {
  const open: ConsumerGroupMember[] = [];
  afterEach(async () => {
    for (const m of open.splice(0)) await m.close();
  });

  function member(group: InMemoryConsumerGroup, id: string, handler: (b: DeliveryBatch) => Promise<void>) {
    const m = new ConsumerGroupMember({
      memberId: id,
      group: 'g',
      partitions,
      leases: group.leaseTable(),
      source: group.source(id),
      handler,
      maxBatchSize: 4,
      leaseMs,
      clock: systemClock,
      logger: silentLogger,
    });
    open.push(m);
    return m;
  }

  /** Members joining one after the other, all recording into `seen`. */
  async function join(group: InMemoryConsumerGroup, seen: Seen, ...ids: string[]): Promise<ConsumerGroupMember[]> {
    const members: ConsumerGroupMember[] = [];
    for (const id of ids) {
      const m = member(group, id, async (b) => seen.record(b));
      await m.start();
      members.push(m);
    }
    return members;
  }

  it('alone, holds every partition and delivers each in order', async () => {
    const group = new InMemoryConsumerGroup(systemClock, leaseMs);
    const seen = new Seen();
    publish(group, 10);
    const a = member(group, 'a', async (b) => seen.record(b));
    await a.start();
    expect(a.assignedPartitions()).toEqual(partitions.map(partitionName).sort());
    await eventually(() => expect(seen.ids.size).toBe(60));
    seen.assertInOrder(10);
  });

  it('shares the partitions fairly when members join, and takes them back when one leaves', async () => {
    const group = new InMemoryConsumerGroup(systemClock, leaseMs);
    const seen = new Seen();
    const [a, b, c] = (await join(group, seen, 'a', 'b', 'c')) as [ConsumerGroupMember, ConsumerGroupMember, ConsumerGroupMember];
    await eventually(() => {
      expect(a.assignedPartitions()).toHaveLength(2);
      expect(b.assignedPartitions()).toHaveLength(2);
      expect(c.assignedPartitions()).toHaveLength(2);
      return true;
    });
    publish(group, 20);
    await c.close();
    await eventually(() => expect(a.assignedPartitions().length + b.assignedPartitions().length).toBe(6));
    expect(Math.abs(a.assignedPartitions().length - b.assignedPartitions().length)).toBe(0);
    await eventually(() => expect(seen.ids.size).toBe(120));
    seen.assertInOrder(20);
    expect(group.members.has('c')).toBe(false);
  });

  it('takes over the partitions of a member that died, once its leases expire', async () => {
    const group = new InMemoryConsumerGroup(systemClock, leaseMs);
    const seen = new Seen();
    const [, b] = (await join(group, seen, 'a', 'b')) as [ConsumerGroupMember, ConsumerGroupMember];
    await eventually(() => expect(b.assignedPartitions()).toHaveLength(3));
    publish(group, 5);
    await eventually(() => expect(seen.ids.size).toBe(30));
    group.cut.add('b'); // b's calls no longer land: a dead process
    publish(group, 5, 5);
    await eventually(() => expect(group.ownedBy('a')).toHaveLength(6), 5_000);
    await eventually(() => expect(seen.ids.size).toBe(60));
    seen.assertInOrder(10);
    // The dead member says it holds nothing once its leases may have expired.
    expect(b.assignedPartitions()).toEqual([]);
  });

  it('fences a stale owner: its commit is refused and its loop stops, the new owner goes on', async () => {
    const group = new InMemoryConsumerGroup(systemClock, leaseMs);
    const one = [partitions[0]!];
    group.append(one[0]!, [testEnvelope('orders', 'k', 0), testEnvelope('orders', 'k', 1)]);
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    const staleSaw: number[] = [];
    const stale = new ConsumerGroupMember({
      memberId: 'stale',
      group: 'g',
      partitions: one,
      leases: group.leaseTable(),
      source: group.source('stale'),
      handler: async (b) => {
        staleSaw.push(...b.messages.map((m) => (m.payload as { seq: number }).seq));
        await stuck; // a long pause (GC, a stalled VM) while the lease runs out
      },
      maxBatchSize: 10,
      leaseMs,
      clock: systemClock,
      logger: silentLogger,
    });
    open.push(stale);
    await stale.start();
    await eventually(() => expect(staleSaw).toEqual([0, 1]));
    // Its heartbeats stop landing: the lease expires and another member claims it.
    group.cut.add('stale');
    const fresh = new ConsumerGroupMember({
      memberId: 'fresh',
      group: 'g',
      partitions: one,
      leases: group.leaseTable(),
      source: group.source('fresh'),
      handler: async () => undefined,
      maxBatchSize: 10,
      leaseMs,
      clock: systemClock,
      logger: silentLogger,
    });
    open.push(fresh);
    await fresh.start();
    await eventually(() => expect(fresh.assignedPartitions()).toEqual(['orders/0']), 5_000);
    await eventually(() => expect(group.committed.get('orders/0')).toBe(1));
    expect(stale.assignedPartitions()).toEqual([]);
    group.cut.delete('stale'); // it wakes up and finishes its batch
    release();
    await eventually(() => expect(group.ownedBy('stale')).toEqual([]));
    await new Promise((r) => setTimeout(r, leaseMs));
    expect(group.commits.filter(([, , m]) => m === 'stale')).toEqual([]);
    expect(group.ownedBy('fresh')).toEqual(['orders/0']);
  });

  it('cleans up after a failed start: loops stopped, leases and membership given back', async () => {
    const group = new InMemoryConsumerGroup(systemClock, leaseMs);
    publish(group, 3);
    let claims = 0;
    group.beforeClaim = () => {
      if (++claims === 3) throw new Error('claim failed');
    };
    let delivered = 0;
    const a = member(group, 'a', async (b) => {
      delivered += b.messages.length;
    });
    await expect(a.start()).rejects.toThrow('claim failed');
    expect(group.ownedBy('a')).toEqual([]);
    expect(group.members.has('a')).toBe(false);
    expect(a.assignedPartitions()).toEqual([]);
    const after = delivered;
    await new Promise((r) => setTimeout(r, 100));
    expect(delivered).toBe(after);
  });

  it('stops everything while the group is paused and starts afresh in the new generation', async () => {
    const group = new InMemoryConsumerGroup(systemClock, leaseMs);
    const seen = new Seen();
    const a = member(group, 'a', async (b) => seen.record(b));
    await a.start();
    publish(group, 2);
    await eventually(() => expect(seen.ids.size).toBe(12));
    group.generation = 1;
    group.paused = true;
    a.rebalanceSoon();
    await eventually(() => expect(group.quiesced.get('a')).toBe(1));
    expect(a.assignedPartitions()).toEqual([]);
    expect(group.ownedBy('a')).toEqual([]);
    group.committed.clear(); // the rebuild rewinds the group
    group.paused = false;
    seen.byKey.clear();
    const before = seen.ids.size;
    seen.ids.clear();
    a.rebalanceSoon();
    await eventually(() => expect(a.assignedPartitions()).toHaveLength(6));
    await eventually(() => expect(seen.ids.size).toBe(before));
    seen.assertInOrder(2);
    expect(group.quiesced.get('a')).toBeNull();
  });

  it('keeps a lease whose renewal outcome is unknown, pausing its loop once it may have lapsed', async () => {
    const group = new InMemoryConsumerGroup(systemClock, leaseMs);
    const leases = group.leaseTable();
    let unknown = false;
    const renew = leases.renew.bind(leases);
    leases.renew = (member, held) => (unknown ? Promise.resolve(held.map(() => 'unknown' as const)) : renew(member, held));
    const a = new ConsumerGroupMember({
      memberId: 'a',
      group: 'g',
      partitions,
      leases,
      source: group.source('a'),
      handler: async () => undefined,
      maxBatchSize: 4,
      leaseMs,
      clock: systemClock,
      logger: silentLogger,
    });
    open.push(a);
    await a.start();
    unknown = true;
    await eventually(() => a.assignedPartitions().length === 0, 5_000);
    unknown = false;
    await eventually(() => a.assignedPartitions().length === 6, 5_000);
  });

  it('delivers a rejected batch again, in order, before anything after it', async () => {
    const group = new InMemoryConsumerGroup(systemClock, leaseMs);
    const seen = new Seen();
    let failuresLeft = 2;
    const a = member(group, 'a', async (b) => {
      if (b.partition === 0 && failuresLeft-- > 0) throw new Error('not now');
      seen.record(b);
    });
    await a.start();
    publish(group, 8);
    await eventually(() => expect(seen.ids.size).toBe(48));
    seen.assertInOrder(8);
  });
});
