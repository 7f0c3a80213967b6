import type { Clock } from '@concord/core';

/**
 * Time that moves only when the explorer (or a sleeper) moves it, so backoff waits and
 * expiries are the same in every run. `sleep` advances time and returns at once.
 */
export class VirtualClock implements Clock {
  private current: number;

  constructor(start = Date.UTC(2030, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += Math.max(0, ms);
  }

  async sleep(ms: number): Promise<void> {
    this.advance(ms);
  }
}
