import { describe, expect, it } from 'vitest';
import { UnsentFloor } from './unsent-floor.js';

const snap = (xmin: number, nextXid: number, top: number) => ({ xmin: BigInt(xmin), nextXid: BigInt(nextXid), top });

describe('UnsentFloor', () => {
  it('starts from the beginning, and moves only once every transaction of a checkpoint has ended', () => {
    const floor = new UnsentFloor(60_000);
    expect(floor.startFor([0, 1], 0)).toBe(0);
    floor.advance(snap(100, 110, 50), undefined); // checkpoint: top 50, next id 110
    expect(floor.startFor([0, 1], 1)).toBe(0);
    floor.advance(snap(105, 120, 80), undefined); // transaction 105 may still hold a position <= 50
    expect(floor.startFor([0, 1], 2)).toBe(0);
    floor.advance(snap(110, 125, 90), undefined); // all below 110 ended: past 50
    expect(floor.startFor([0, 1], 3)).toBe(51);
  });

  it('never passes a row a round left unsent', () => {
    const floor = new UnsentFloor(60_000);
    floor.startFor([0], 0);
    floor.advance(snap(1, 10, 100), undefined);
    floor.advance(snap(10, 12, 120), 42);
    expect(floor.startFor([0], 1)).toBe(42);
  });

  it('reads everything again after a change of shards and every full-read interval', () => {
    const floor = new UnsentFloor(1_000);
    floor.startFor([0], 0);
    floor.advance(snap(1, 10, 100), undefined);
    floor.advance(snap(10, 12, 120), undefined);
    expect(floor.startFor([0], 10)).toBe(101);
    expect(floor.startFor([0, 1], 20)).toBe(0);
    floor.advance(snap(12, 13, 130), undefined);
    floor.advance(snap(13, 14, 140), undefined);
    expect(floor.startFor([0, 1], 30)).toBe(131);
    expect(floor.startFor([0, 1], 1_020)).toBe(0);
  });
});
