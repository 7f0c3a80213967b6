import { describe, it } from 'vitest';
import { timersSurviveKill } from './testing/timers-survive-kill.js';

describe('durable timers across processes (SQLite)', () => {
  it('10,000 timers, 3 instances, one SIGKILLed midway: each fires exactly once', () => timersSurviveKill(10_000, 4_000), 90_000);
});
