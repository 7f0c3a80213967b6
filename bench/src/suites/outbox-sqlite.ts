import { latencyRecord, measureLatencyAtRate, measureThroughput } from '../lib/load.js';
import type { BenchRecord, BenchSuite } from '../lib/results.js';
import { openSqlitePipeline } from '../lib/sqlite-pipeline.js';

/**
 * Commit → relay → broker → handler on the embedded default: three SQLite files (producer,
 * broker, consumer), each message its own business transaction on the producer.
 */
const suite: BenchSuite = {
  name: 'outbox-sqlite',
  async run() {
    const records: BenchRecord[] = [];
    {
      const p = await openSqlitePipeline();
      await measureThroughput(p, 2_000, 16); // warm-up: JIT, statement caches, page cache
      const r = await measureThroughput(p, 50_000, 64);
      records.push({
        scenario: 'end-to-end throughput (64 producers, 16 keys)',
        throughputPerSec: r.perSec,
        count: r.count,
        note: `${r.seconds.toFixed(2)} s`,
      });
      await p.close();
    }
    const target = Math.round((records[0]!.throughputPerSec ?? 10_000) / 2);
    {
      const p = await openSqlitePipeline();
      await measureThroughput(p, 2_000, 16);
      const r = await measureLatencyAtRate(p, target, 6);
      records.push(latencyRecord(`latency at half the max rate (${target}/s)`, r));
      await p.close();
    }
    {
      const p = await openSqlitePipeline();
      const r = await measureLatencyAtRate(p, 5_000, 6);
      records.push(latencyRecord('latency at 5,000/s', r));
      await p.close();
    }
    return records;
  },
};
export default suite;
