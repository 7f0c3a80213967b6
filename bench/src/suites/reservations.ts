import { DurableTimers, Reservations, silentLogger } from '@concord/core';
import { openBenchStore, postgresReachable } from '../lib/bench-stores.js';
import type { BenchRecord, BenchSuite } from '../lib/results.js';
import { nowMs, summarize } from '../lib/stats.js';

/**
 * TCC reservations: one try and one confirm (each its own transaction, as a participant's
 * handlers run them) per reservation, `concurrency` at once, against `pools` quantity pools
 * (one pool is the hot-row worst case: every try and confirm updates the same counts row).
 */
async function run(kind: 'sqlite' | 'postgres', total: number, concurrency: number, pools: number, items = false): Promise<BenchRecord> {
  const bench = await openBenchStore(kind, 'reservations');
  const { store } = bench;
  const timers = new DurableTimers({ store, logger: silentLogger });
  const reservations = new Reservations({ store, timers });
  const names = Array.from({ length: pools }, (_, i) => `pool-${i}`);
  await store.transaction(async (tx) => {
    for (const pool of names) {
      if (items) await reservations.addItems(tx, pool, Array.from({ length: Math.ceil(total / pools) + 10 }, (_, i) => `item-${i}`));
      else await reservations.addStock(tx, pool, total);
    }
  });
  const samples: number[] = [];
  let next = 0;
  const started = nowMs();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = nowMs();
        const reservationId = `r-${i}`;
        const pool = names[i % names.length]!;
        await store.transaction((tx) =>
          reservations.try(tx, items ? { reservationId, pool, anyItem: true, ttlMs: 60_000 } : { reservationId, pool, quantity: 1, ttlMs: 60_000 }),
        );
        await store.transaction((tx) => reservations.confirm(tx, reservationId));
        samples.push(nowMs() - t0);
      }
    }),
  );
  const seconds = (nowMs() - started) / 1000;
  const check = await store.driver.run((exec) => reservations.pool(exec, names[0]!));
  await bench.dispose();
  const latency = summarize(samples);
  return {
    scenario: `${kind}: try + confirm, ${items ? 'any free item of' : '1 unit of'} ${pools} pool${pools > 1 ? 's' : ''}, concurrency ${concurrency}`,
    throughputPerSec: total / seconds,
    ...latency,
    count: total,
    note: `try+confirm latency; pool 0 after: confirmed ${check?.confirmed}, reserved ${check?.reserved}`,
  };
}

const suite: BenchSuite = {
  name: 'reservations',
  async run() {
    const records = [await run('sqlite', 10_000, 16, 1), await run('sqlite', 10_000, 16, 16), await run('sqlite', 5_000, 16, 16, true)];
    if (await postgresReachable()) {
      records.push(await run('postgres', 5_000, 16, 1), await run('postgres', 10_000, 16, 16), await run('postgres', 5_000, 16, 16, true));
    }
    return records;
  },
};
export default suite;
