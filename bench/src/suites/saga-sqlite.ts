import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@concord/core';
import { startDemo } from '../../../examples/customers-orders/src/demo.js';
import type { BenchRecord, BenchSuite } from '../lib/results.js';
import { runCreateOrderLoad } from '../lib/saga-load.js';

/**
 * The demo's CreateOrder saga on the embedded default (SQLite files, in-database broker), from
 * the create-order call to the order's final state, with `concurrency` requests in flight.
 */
async function run(sagaMode: 'orchestration' | 'choreography', total: number, concurrency: number): Promise<BenchRecord> {
  const dir = mkdtempSync(join(tmpdir(), 'concord-bench-saga-'));
  const demo = await startDemo({ port: 0, dataDir: dir, sagaMode, databaseUrl: undefined, brokerUrl: undefined }, silentLogger);
  try {
    const result = await runCreateOrderLoad(demo, { total, concurrency, customers: 16 });
    return {
      scenario: `CreateOrder saga, ${sagaMode}, concurrency ${concurrency}`,
      throughputPerSec: result.perSec,
      p50Ms: result.p50Ms,
      p90Ms: result.p90Ms,
      p99Ms: result.p99Ms,
      count: result.count,
      note: `max ${result.maxMs} ms; 3 SQLite services + broker in one process`,
    };
  } finally {
    await demo.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const suite: BenchSuite = {
  name: 'saga-sqlite',
  async run() {
    return [await run('orchestration', 5_000, 64), await run('orchestration', 3_000, 16), await run('choreography', 5_000, 64)];
  },
};
export default suite;
