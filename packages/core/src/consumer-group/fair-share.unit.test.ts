import { describe, expect, it } from 'vitest';
import { planRebalance } from './fair-share.js';
import { partitionName, type PartitionRef } from './ports.js';

const all: PartitionRef[] = Array.from({ length: 5 }, (_, p) => ({ channel: 'c', partition: p }));

describe('planRebalance', () => {
  it('gives a member ceil(partitions / members)', () => {
    expect(planRebalance('m', all, 2, []).fairShare).toBe(3);
    expect(planRebalance('m', all, 0, []).fairShare).toBe(5);
  });

  it('gives back what is over the share, newest first', () => {
    const plan = planRebalance('m', all, 3, ['c/0', 'c/1', 'c/2', 'c/3']);
    expect(plan.giveBack).toEqual(['c/2', 'c/3']);
    expect(plan.candidates).toEqual([]);
  });

  it('tries every partition it does not hold, starting where its id hashes to', () => {
    const plan = planRebalance('m', all, 1, ['c/2']);
    expect(plan.candidates.map(partitionName).sort()).toEqual(['c/0', 'c/1', 'c/3', 'c/4']);
    const other = planRebalance('another-member', all, 1, []);
    expect(other.candidates).toHaveLength(5);
  });
});
