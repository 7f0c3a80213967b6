import { describe, expect, it } from 'vitest';
import { UnsentFloor } from './unsent-floor.js';

const snap = (xmin: number, nextXid: number, top: number) => ({ xmin: BigInt(xmin), nextXid: BigInt(nextXid), top });

describe('UnsentFloor', () => {
  it('starts from the beginning, and moves only once every transaction of a checkpoint has ended', () => {
    const floor = new UnsentFloor(60_000);
    expect(floor.startFor([0, 1], 0)).toBe(0);
    floor.advance([0, 1], snap(100, 110, 50), undefined); // checkpoint: top 50, next id 110
    expect(floor.startFor([0, 1], 1)).toBe(0);
    floor.advance([0, 1], snap(105, 120, 80), undefined); // transaction 105 may still hold a position <= 50
    expect(floor.startFor([0, 1], 2)).toBe(0);
    floor.advance([0, 1], snap(110, 125, 90), undefined); // all below 110 ended: past 50
    expect(floor.startFor([0, 1], 3)).toBe(51);
  });

  it('never passes a row a round left unsent', () => {
    const floor = new UnsentFloor(60_000);
    floor.startFor([0], 0);
    floor.advance([0], snap(1, 10, 100), undefined);
    floor.advance([0], snap(10, 12, 120), 42);
    expect(floor.startFor([0], 1)).toBe(42);
  });

  it('keeps a floor per shard: a read starts at the lowest floor of its shards', () => {
    const floor = new UnsentFloor(60_000);
    expect(floor.startFor([0, 1], 0)).toBe(0);
    floor.advance([0, 1], snap(1, 10, 100), undefined);
    floor.advance([0, 1], snap(10, 12, 120), undefined);
    expect(floor.startFor([0, 1], 1)).toBe(101);
    // A shard never read (newly owned, or first in a round) starts from the beginning...
    expect(floor.startFor([1, 2], 2)).toBe(0);
    floor.advance([1, 2], snap(12, 13, 130), undefined);
    // ...and shard 0, not in that read, keeps its floor and its checkpoint is not consumed by it.
    floor.advance([2], snap(13, 14, 140), undefined);
    expect(floor.startFor([0], 3)).toBe(101);
    expect(floor.startFor([2], 3)).toBe(131);
    expect(floor.startFor([0, 2], 3)).toBe(101);
  });

  it('reads everything again every full-read interval', () => {
    const floor = new UnsentFloor(1_000);
    floor.startFor([0], 0);
    floor.advance([0], snap(1, 10, 100), undefined);
    floor.advance([0], snap(10, 12, 120), undefined);
    expect(floor.startFor([0], 10)).toBe(101);
    expect(floor.startFor([0], 1_020)).toBe(0);
  });

  it('makes no checkpoint from a read whose next transaction id is unknown', () => {
    const floor = new UnsentFloor(60_000);
    floor.startFor([0], 0);
    floor.advance([0], { xmin: 1n, nextXid: undefined, top: 100 }, undefined);
    floor.advance([0], snap(50, 60, 120), undefined);
    expect(floor.startFor([0], 1)).toBe(0);
  });
});
