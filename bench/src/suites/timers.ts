import { DurableTimers, silentLogger } from '@concord/core';
import { openBenchStore, postgresReachable } from '../lib/bench-stores.js';
import type { BenchRecord, BenchSuite } from '../lib/results.js';
import { epochNowMs, summarize } from '../lib/stats.js';

/**
 * Timer firing lateness: `total` timers due over `spreadMs`, fired by `instances` runtimes
 * sharing the store (as instances of one service would); lateness = when the handler ran
 * minus when the timer was due.
 */
async function run(kind: 'sqlite' | 'postgres', total: number, spreadMs: number, instances: number): Promise<BenchRecord> {
  const bench = await openBenchStore(kind, 'timers');
  const { store } = bench;
  const lateness: number[] = [];
  const runtimes = Array.from({ length: instances }, (_, i) =>
    new DurableTimers({ store, instanceId: `bench-${i}`, logger: silentLogger, pollIntervalMs: 100 }).handle('bench.timer', (_tx, timer) => {
      lateness.push(epochNowMs() - timer.dueAt);
    }),
  );
  const start = Date.now() + 2_000;
  for (let from = 0; from < total; from += 1_000) {
    await store.transaction(async (tx) => {
      for (let i = from; i < Math.min(total, from + 1_000); i++) {
        await runtimes[0]!.schedule(tx, { id: `t-${i}`, kind: 'bench.timer', at: start + Math.floor((i * spreadMs) / total) });
      }
    });
  }
  for (const r of runtimes) r.start();
  const deadline = Date.now() + spreadMs + 120_000;
  while (lateness.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const r of runtimes) await r.stop();
  const counts = await runtimes[0]!.countByStatus();
  await bench.dispose();
  const l = summarize(lateness);
  return {
    scenario: `${kind}: ${total} timers due over ${spreadMs / 1000} s, ${instances} instance${instances > 1 ? 's' : ''}`,
    throughputPerSec: total / (spreadMs / 1000),
    ...l,
    count: lateness.length,
    note: `lateness (fire - due); max ${l.maxMs} ms; FIRED ${counts.FIRED ?? 0} of ${total}; poll 100 ms`,
  };
}

const suite: BenchSuite = {
  name: 'timers',
  async run() {
    const records = [await run('sqlite', 10_000, 10_000, 1), await run('sqlite', 10_000, 10_000, 3), await run('sqlite', 10_000, 2_000, 3)];
    if (await postgresReachable()) records.push(await run('postgres', 10_000, 10_000, 3), await run('postgres', 10_000, 2_000, 3));
    return records;
  },
};
export default suite;
