import type { MessageEnvelope } from '../message/envelope.js';
import type { Clock } from '../ports/clock.js';
import {
  partitionName,
  type GroupView,
  type HeldLease,
  type LeaseTable,
  type OpenPartition,
  type PartitionReader,
  type PartitionRef,
  type PartitionSource,
  type ReadOutcome,
} from '../consumer-group/ports.js';

/** Thrown by a member's ports once the test cut it off, as a dead process's calls would never land. */
export class MemberCutOffError extends Error {
  constructor(member: string) {
    super(`member ${member} is cut off`);
    this.name = 'MemberCutOffError';
  }
}

interface LeaseRow {
  owner: string;
  expiresAt: number;
  revision: number;
}

/**
 * A consumer group kept in memory: the lease table and the partition log with committed
 * offsets, both fenced like the real ones. For the engine's own tests; adapters are checked
 * against their servers by the conformance suites.
 */
export class InMemoryConsumerGroup {
  readonly members = new Map<string, number>();
  readonly leases = new Map<string, LeaseRow>();
  readonly log = new Map<string, MessageEnvelope[]>();
  readonly committed = new Map<string, number>();
  /** Every commit accepted, in order: [partition, offset, member]. */
  readonly commits: Array<[string, number, string]> = [];
  readonly quiesced = new Map<string, number | null>();
  readonly cut = new Set<string>();
  generation = 0;
  paused = false;
  /** Called before each claim: a test can make it throw. */
  beforeClaim: (member: string, partition: PartitionRef) => void = () => undefined;
  private revision = 0;
  private readonly wakes = new Map<string, Set<OpenPartition['wake']>>();

  constructor(
    private readonly clock: Clock,
    private readonly leaseMs: number,
  ) {}

  append(partition: PartitionRef, messages: readonly MessageEnvelope[]): void {
    const key = partitionName(partition);
    const log = this.log.get(key) ?? [];
    log.push(...messages);
    this.log.set(key, log);
    for (const wake of this.wakes.get(key) ?? []) wake.wake();
  }

  /** The partitions `member` holds an unexpired lease on. */
  ownedBy(member: string): string[] {
    const now = this.clock.now();
    return [...this.leases].filter(([, l]) => l.owner === member && l.expiresAt > now).map(([k]) => k).sort();
  }

  private check(member: string): void {
    if (this.cut.has(member)) throw new MemberCutOffError(member);
  }

  leaseTable(): LeaseTable<number> {
    return this.leaseTableOf(this);
  }

  private leaseTableOf(self: InMemoryConsumerGroup): LeaseTable<number> {
    const free = (member: string, lease: HeldLease<number>) => {
      const row = self.leases.get(partitionName(lease.partition));
      if (row && row.owner === member) self.leases.set(partitionName(lease.partition), { owner: '', expiresAt: 0, revision: ++self.revision });
    };
    return {
      async heartbeat(member): Promise<GroupView> {
        self.check(member);
        const now = self.clock.now();
        self.members.set(member, now);
        for (const [m, at] of self.members) if (at < now - self.leaseMs) self.members.delete(m);
        return { members: self.members.size, generation: self.generation, paused: self.paused };
      },
      async claim(member, partition) {
        self.check(member);
        self.beforeClaim(member, partition);
        const key = partitionName(partition);
        const row = self.leases.get(key);
        const now = self.clock.now();
        if (row && row.owner !== '' && row.expiresAt > now) return undefined;
        const revision = ++self.revision;
        self.leases.set(key, { owner: member, expiresAt: now + self.leaseMs, revision });
        return revision;
      },
      async renew(member, held) {
        self.check(member);
        const now = self.clock.now();
        return held.map((h) => {
          const key = partitionName(h.partition);
          const row = self.leases.get(key);
          if (!row || row.owner !== member || row.revision !== h.token) return 'lost';
          const revision = ++self.revision;
          self.leases.set(key, { owner: member, expiresAt: now + self.leaseMs, revision });
          return { token: revision };
        });
      },
      async release(member, lease) {
        self.check(member);
        free(member, lease);
      },
      async leave(member, held) {
        self.check(member);
        for (const lease of held) free(member, lease);
        self.members.delete(member);
      },
      async quiesced(member, generation) {
        self.check(member);
        self.quiesced.set(member, generation);
      },
    };
  }

  /** The partition source `member` reads through: commits are fenced on its lease and the generation. */
  source(member: string, idleWaitMs = 20): PartitionSource<number> {
    return this.sourceOf(this, member, idleWaitMs);
  }

  private sourceOf(self: InMemoryConsumerGroup, member: string, idleWaitMs: number): PartitionSource<number> {
    return {
      idleWaitMs,
      async open(partition, context): Promise<PartitionReader<number>> {
        self.check(member);
        const key = partitionName(partition);
        const wakes = self.wakes.get(key) ?? new Set();
        wakes.add(context.wake);
        self.wakes.set(key, wakes);
        // The starting rule: just after the committed offset, or the oldest message (-1: none).
        let position = self.committed.get(key) ?? -1;
        return {
          async read(max): Promise<ReadOutcome<number>> {
            self.check(member);
            const log = self.log.get(key) ?? [];
            const messages = log.slice(position + 1, position + 1 + max);
            if (messages.length === 0) return 'idle';
            position += messages.length;
            return { messages, position, caughtUp: messages.length < max };
          },
          async commit(offset) {
            self.check(member);
            const row = self.leases.get(key);
            if (row?.owner !== member || context.generation !== self.generation || self.paused) return false;
            if (offset > (self.committed.get(key) ?? -1)) {
              self.committed.set(key, offset);
              self.commits.push([key, offset, member]);
            }
            return true;
          },
          async close() {
            wakes.delete(context.wake);
          },
        };
      },
    };
  }
}
