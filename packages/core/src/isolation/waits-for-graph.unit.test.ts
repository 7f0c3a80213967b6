import { describe, expect, it } from 'vitest';
import { findWaitCycles, type WaitEdge } from './waits-for-graph.js';

let id = 0;
const edge = (
  waiter: string,
  holder: string,
  startedAt: Record<string, number>,
  service = 'a',
): WaitEdge => ({
  service,
  waitId: ++id,
  resource: `r-${holder}`,
  waiter,
  waiterStartedAt: startedAt[waiter]!,
  holder,
  holderStartedAt: startedAt[holder]!,
  waitingSince: 0,
});

describe('findWaitCycles', () => {
  const t = { x: 1, y: 2, z: 3, w: 4 };

  it('finds no cycle in a chain', () => {
    expect(findWaitCycles([edge('x', 'y', t), edge('y', 'z', t)])).toEqual([]);
  });

  it('finds a two-saga cycle across services once, and picks the youngest saga as victim', () => {
    const cycles = findWaitCycles([edge('x', 'y', t, 'orders'), edge('y', 'x', t, 'customers')]);
    expect(cycles).toHaveLength(1);
    expect(cycles[0]!.victim.waiter).toBe('y');
    expect(cycles[0]!.edges.map((e) => e.service).sort()).toEqual(['customers', 'orders']);
  });

  it('finds a three-saga cycle beside an unrelated chain', () => {
    const cycles = findWaitCycles([
      edge('x', 'y', t),
      edge('y', 'z', t),
      edge('z', 'x', t),
      edge('w', 'x', t),
    ]);
    expect(cycles).toHaveLength(1);
    expect(cycles[0]!.edges.map((e) => e.waiter)).toEqual(['x', 'y', 'z']);
    expect(cycles[0]!.victim.waiter).toBe('z');
  });

  it('breaks ties on start time by the higher saga id', () => {
    const same = { x: 5, y: 5 };
    expect(findWaitCycles([edge('x', 'y', same), edge('y', 'x', same)])[0]!.victim.waiter).toBe('y');
  });
});
