import { describe, expect, it } from 'vitest';
import { exhaustiveSchedules } from './saga-explorer.js';
import { faultFits, formatSchedule, parseSchedule, type Boundary } from './fault-schedule.js';
import { planOf } from './fault-plan.js';
import { SeededRandom } from './seeded-random.js';

describe('schedules', () => {
  it('print sorted by boundary and parse back to the same faults', () => {
    const schedule = [
      { kind: 'duplicate', at: 12 },
      { kind: 'crash-after-commit', at: 7 },
    ] as const;
    expect(formatSchedule(schedule)).toBe('crash-after-commit@7,duplicate@12');
    expect(parseSchedule('crash-after-commit@7, duplicate@12')).toEqual([
      { kind: 'crash-after-commit', at: 7 },
      { kind: 'duplicate', at: 12 },
    ]);
    expect(formatSchedule([])).toBe('none');
    expect(parseSchedule('none')).toEqual([]);
  });

  it('refuse unknown faults, malformed parts and two faults at one boundary', () => {
    expect(() => parseSchedule('explode@1')).toThrow(/not <fault>@<boundary>/);
    expect(() => parseSchedule('delay')).toThrow(/not <fault>@<boundary>/);
    expect(() => parseSchedule('delay@1,reorder@1')).toThrow(/two faults at boundary 1/);
  });

  it('apply a fault only at a boundary it fits', () => {
    expect(faultFits('crash-before-commit', 'commit')).toBe(true);
    expect(faultFits('crash-before-commit', 'deliver')).toBe(false);
    const plan = planOf(parseSchedule('delay@3'));
    expect(plan.faultAt(3, 'deliver')).toBe('delay');
    expect(plan.faultAt(3, 'commit')).toBeUndefined();
    expect(plan.faultAt(4, 'deliver')).toBeUndefined();
  });

  it('enumerate every fault that fits every boundary, from a given boundary on', () => {
    const boundaries: Boundary[] = [
      { index: 0, kind: 'commit', label: 'a' },
      { index: 1, kind: 'publish', label: 'b' },
      { index: 2, kind: 'deliver', label: 'c' },
    ];
    const all = new Set(['crash-before-commit', 'crash-after-commit', 'crash-after-publish', 'duplicate', 'delay', 'reorder'] as const);
    expect(exhaustiveSchedules(boundaries, all).map(formatSchedule)).toEqual([
      'crash-before-commit@0',
      'crash-after-commit@0',
      'crash-after-publish@1',
      'duplicate@1',
      'duplicate@2',
      'delay@2',
      'reorder@2',
    ]);
    expect(exhaustiveSchedules(boundaries, new Set(['duplicate'] as const), 2).map(formatSchedule)).toEqual(['duplicate@2']);
  });
});

describe('SeededRandom', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    const draw = (seed: number) => {
      const random = new SeededRandom(seed);
      return Array.from({ length: 8 }, () => random.below(1000));
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(42).every((n) => n >= 0 && n < 1000)).toBe(true);
  });
});
