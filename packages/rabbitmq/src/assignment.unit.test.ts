import { describe, expect, it } from 'vitest';
import { assignPartitions } from './assignment.js';

const channels = new Map([
  ['orders', 16],
  ['payments', 4],
]);

function owners(assignment: Map<string, string[]>): Map<string, string> {
  const byPartition = new Map<string, string>();
  for (const [member, partitions] of assignment) for (const p of partitions) byPartition.set(p, member);
  return byPartition;
}

describe('assignPartitions', () => {
  it('gives every partition to exactly one member, balanced within one', () => {
    const members = ['m-a', 'm-b', 'm-c'].map((id) => ({ id, channels: ['orders', 'payments'] }));
    const assignment = assignPartitions(members, channels);
    expect(owners(assignment).size).toBe(20);
    for (const [, partitions] of assignment) {
      const orders = partitions.filter((p) => p.startsWith('orders/')).length;
      expect(orders === 5 || orders === 6).toBe(true);
    }
  });

  it('is the same whatever order the members are listed in', () => {
    const members = ['x1', 'x2', 'x3', 'x4'].map((id) => ({ id, channels: ['orders'] }));
    const a = assignPartitions(members, channels);
    const b = assignPartitions([...members].reverse(), channels);
    expect(owners(a)).toEqual(owners(b));
  });

  it('moves only some partitions when a member joins', () => {
    const two = ['m-a', 'm-b'].map((id) => ({ id, channels: ['orders'] }));
    const before = owners(assignPartitions(two, new Map([['orders', 64]])));
    const after = owners(assignPartitions([...two, { id: 'm-c', channels: ['orders'] }], new Map([['orders', 64]])));
    const moved = [...before].filter(([p, m]) => after.get(p) !== m).length;
    expect(moved).toBeGreaterThanOrEqual(21);
    expect(moved).toBeLessThan(40);
  });

  it('only hands a channel to members that listen to it', () => {
    const assignment = assignPartitions(
      [
        { id: 'a', channels: ['orders'] },
        { id: 'b', channels: ['orders', 'payments'] },
      ],
      channels,
    );
    expect(assignment.get('a')!.some((p) => p.startsWith('payments/'))).toBe(false);
    expect(assignment.get('b')!.filter((p) => p.startsWith('payments/'))).toHaveLength(4);
  });
});
