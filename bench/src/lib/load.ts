import type { BenchRecord } from './results.js';
import { epochNowMs, nowMs, summarize, type LatencySummary, type Rate } from './stats.js';

export interface ThroughputResult extends Rate {
  readonly count: number;
}

export interface LatencyResult extends LatencySummary {
  readonly count: number;
  readonly achievedPerSec: number;
}

/** A producer → consumer path as the load functions drive it (see `sqlite-pipeline.ts`). */
export interface LoadTarget {
  send(key: string, seq: number): Promise<void>;
  /** Replaced by each measurement; called with the seq and epoch time of each handled message. */
  onHandled: (seq: number, atEpochMs: number) => void;
}

export interface LoadOptions {
  /** Partition keys the messages spread over (`key-0` …). Default 16. */
  readonly keys?: number;
  /** Seq of the first message; a target that keys rows by seq needs fresh ones per call. Default 0. */
  readonly firstSeq?: number;
}

/** Sends `count` messages with `concurrency` in flight and waits until all were handled. */
export async function measureThroughput(
  p: LoadTarget,
  count: number,
  concurrency: number,
  { keys = 16, firstSeq = 0 }: LoadOptions = {},
): Promise<ThroughputResult> {
  let handled = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  p.onHandled = () => {
    if (++handled === count) resolveAll();
  };
  const started = nowMs();
  let next = firstSeq;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < firstSeq + count) {
        const seq = next++;
        await p.send(`key-${seq % keys}`, seq);
      }
    }),
  );
  await all;
  const seconds = (nowMs() - started) / 1000;
  return { count, seconds, perSec: count / seconds };
}

/**
 * Sends at a fixed rate for `seconds` and records, per message, the time from the start of its
 * business transaction to the commit of its handler's transaction.
 */
export async function measureLatencyAtRate(
  p: LoadTarget,
  ratePerSec: number,
  seconds: number,
  { keys = 16, firstSeq = 0 }: LoadOptions = {},
): Promise<LatencyResult> {
  const started = new Map<number, number>();
  const samples: number[] = [];
  const total = Math.round(ratePerSec * seconds);
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  p.onHandled = (seq, at) => {
    const t0 = started.get(seq);
    if (t0 === undefined) return;
    samples.push(at - t0);
    started.delete(seq);
    if (samples.length === total) resolveAll();
  };
  const tickMs = 5;
  const t0 = nowMs();
  let sent = 0;
  const inflight = new Set<Promise<void>>();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((nowMs() - t0) / 1000) * ratePerSec));
    while (sent < due) {
      const seq = firstSeq + sent++;
      started.set(seq, epochNowMs());
      const pr = p.send(`key-${seq % keys}`, seq).finally(() => inflight.delete(pr));
      inflight.add(pr);
    }
    await new Promise((r) => setTimeout(r, tickMs));
  }
  await Promise.all(inflight);
  await all;
  const elapsed = (nowMs() - t0) / 1000;
  return { ...summarize(samples), count: samples.length, achievedPerSec: total / elapsed };
}

/** The record of a latency measurement; `what` leads the note (default: just the max). */
export function latencyRecord(scenario: string, l: LatencyResult, what?: string): BenchRecord {
  return {
    scenario,
    throughputPerSec: l.achievedPerSec,
    p50Ms: l.p50Ms,
    p90Ms: l.p90Ms,
    p99Ms: l.p99Ms,
    count: l.count,
    note: what ? `${what}; max ${l.maxMs} ms` : `max ${l.maxMs} ms`,
  };
}
