import { describe, it } from 'vitest';
import { timersSurviveKill } from './testing/timers-survive-kill.js';

describe('durable timers across processes (SQLite, long)', () => {
  it('50,000 timers over 20 s, 3 instances, one SIGKILLed midway: each fires exactly once', () => timersSurviveKill(50_000, 20_000), 300_000);
});
