import { nowMs, summarize, type LatencySummary } from './stats.js';

export interface ClosedLoopResult extends LatencySummary {
  readonly count: number;
  readonly seconds: number;
  readonly perSec: number;
  /** CPU of this Node process (user + system) over the measured phase, in ms. */
  readonly cpuMs: number;
}

/**
 * `concurrency` clients, each running `oneUnit` again as soon as the last one finished (a
 * closed loop), `warmup` units first, then `total` measured ones. Every system in a
 * comparison is driven by this same loop.
 */
export async function runClosedLoop(options: {
  total: number;
  concurrency: number;
  warmup?: number;
  oneUnit: (i: number) => Promise<void>;
  before?: () => Promise<void>;
  after?: () => Promise<void>;
}): Promise<ClosedLoopResult> {
  let next = 0;
  const samples: number[] = [];
  const loop = (limit: number, record: boolean) =>
    Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < limit) {
          const i = next++;
          const t0 = nowMs();
          await options.oneUnit(i);
          if (record) samples.push(nowMs() - t0);
        }
      }),
    );
  const warmup = options.warmup ?? 200;
  await loop(warmup, false);
  await options.before?.();
  const cpu0 = process.cpuUsage();
  const started = nowMs();
  await loop(warmup + options.total, true);
  const seconds = (nowMs() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await options.after?.();
  return { count: options.total, seconds, perSec: options.total / seconds, cpuMs: (cpu.user + cpu.system) / 1000, ...summarize(samples) };
}
