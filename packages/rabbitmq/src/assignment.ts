import { createHash } from 'node:crypto';

export interface GroupMemberView {
  readonly id: string;
  readonly channels: readonly string[];
}

/**
 * Which partitions each member of a group should own: rendezvous hashing with bounded load.
 * Each partition ranks the members listening to its channel by a hash of (member, partition)
 * and goes to the best-ranked one with room (floor(P / members), plus one for the first
 * P mod members that reach it), so loads differ by one at most. Every member computes the
 * same answer from the same view, and a member joining or leaving moves few partitions.
 */
export function assignPartitions(
  members: readonly GroupMemberView[],
  partitionsByChannel: ReadonlyMap<string, number>,
): Map<string, string[]> {
  const result = new Map<string, string[]>(members.map((m) => [m.id, []]));
  for (const [channel, count] of [...partitionsByChannel].sort(([a], [b]) => compare(a, b))) {
    const candidates = members
      .filter((m) => m.channels.includes(channel))
      .map((m) => m.id)
      .sort(compare);
    if (candidates.length === 0) continue;
    const floor = Math.floor(count / candidates.length);
    let oneMore = count % candidates.length;
    const load = new Map(candidates.map((id) => [id, 0]));
    for (let p = 0; p < count; p++) {
      const ranked = candidates
        .map((id) => ({ id, score: score(id, channel, p) }))
        .sort((a, b) => b.score - a.score || compare(a.id, b.id));
      const owner = ranked.find((r) => load.get(r.id)! < floor || (load.get(r.id) === floor && oneMore > 0))!.id;
      if (load.get(owner) === floor) oneMore--;
      load.set(owner, load.get(owner)! + 1);
      result.get(owner)!.push(partitionKey(channel, p));
    }
  }
  return result;
}

export function partitionKey(channel: string, partition: number): string {
  return `${channel}/${partition}`;
}

function score(member: string, channel: string, partition: number): number {
  return createHash('sha1').update(`${member}\u0000${channel}\u0000${partition}`).digest().readUInt32BE(0);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
