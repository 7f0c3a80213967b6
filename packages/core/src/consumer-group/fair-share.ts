import { hashPartitionKey } from '../message/partition.js';
import { partitionName, type PartitionRef } from './ports.js';

/** What a member should do to hold its fair share of the group's partitions. */
export interface RebalancePlan {
  /** The most partitions this member should hold: ceil(partitions / live members). */
  readonly fairShare: number;
  /** Held partitions over the share, to give back (their batch finishes first). */
  readonly giveBack: readonly string[];
  /** Partitions to try to claim, in order, while under the share. */
  readonly candidates: readonly PartitionRef[];
}

/**
 * The one rebalance rule: every member holds at most ceil(partitions / members). A member over
 * its share gives back the newest of its partitions; a member under it claims free partitions,
 * starting at a place its id hashes to, so members joining together try different partitions
 * first instead of racing for the same ones. Partitions still held by a member that died are
 * claimed once their lease expires (the lease table decides that).
 */
export function planRebalance(
  memberId: string,
  all: readonly PartitionRef[],
  members: number,
  held: readonly string[],
): RebalancePlan {
  const fairShare = Math.ceil(all.length / Math.max(1, members));
  const giveBack = held.slice(fairShare);
  if (held.length >= fairShare || all.length === 0) return { fairShare, giveBack, candidates: [] };
  const holding = new Set(held);
  const start = hashPartitionKey(memberId) % all.length;
  const candidates = [...all.slice(start), ...all.slice(0, start)].filter((p) => !holding.has(partitionName(p)));
  return { fairShare, giveBack, candidates };
}
