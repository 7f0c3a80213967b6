import { nowMs, summarize, type LatencySummary } from './stats.js';

const epochNow = () => performance.timeOrigin + performance.now();

export interface ThroughputResult {
  readonly count: number;
  readonly seconds: number;
  readonly perSec: number;
}

/** Sends `count` messages with `concurrency` in flight and waits until all were handled. */
export async function measureThroughput(
  p: { send(key: string, seq: number): Promise<void>; onHandled: (seq: number, atEpochMs: number) => void },
  count: number,
  concurrency: number,
  keys = 16,
): Promise<ThroughputResult> {
  let handled = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  p.onHandled = () => {
    if (++handled === count) resolveAll();
  };
  const started = nowMs();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
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
  p: { send(key: string, seq: number): Promise<void>; onHandled: (seq: number, atEpochMs: number) => void },
  ratePerSec: number,
  seconds: number,
  keys = 16,
): Promise<LatencySummary & { count: number; achievedPerSec: number }> {
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
      const seq = sent++;
      started.set(seq, epochNow());
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
