/** Latency samples in milliseconds → percentiles. */
export function percentile(sortedMs: readonly number[], p: number): number {
  if (sortedMs.length === 0) return NaN;
  const index = Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1));
  return sortedMs[index]!;
}

export interface LatencySummary {
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export function summarize(samplesMs: readonly number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    p50Ms: round(percentile(sorted, 50)),
    p90Ms: round(percentile(sorted, 90)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted[sorted.length - 1] ?? NaN),
  };
}

export function nowMs(): number {
  return performance.now();
}

/** Wall-clock epoch time with sub-millisecond precision, comparable across processes. */
export function epochNowMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface Rate {
  readonly perSec: number;
  readonly seconds: number;
}

/**
 * The fastest of several runs: on a shared machine background load only ever slows a run, so
 * the best one is the fairest figure for each side of a ratio.
 */
export function best<R extends Rate>(rates: readonly R[]): R {
  return rates.reduce((a, b) => (b.perSec > a.perSec ? b : a));
}
