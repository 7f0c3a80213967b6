import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';

/** One measured scenario: what was run and the figures it gave. */
export interface BenchRecord {
  readonly scenario: string;
  /** Messages (or sagas) per second. */
  readonly throughputPerSec?: number;
  readonly p50Ms?: number;
  readonly p90Ms?: number;
  readonly p99Ms?: number;
  readonly count?: number;
  readonly note?: string;
  readonly [extra: string]: unknown;
}

export interface BenchSuite {
  readonly name: string;
  /** Returns a reason to skip (a missing server), or undefined to run. */
  readonly skip?: () => Promise<string | undefined>;
  run(): Promise<BenchRecord[]>;
}

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'results');

export function writeResults(suite: string, records: readonly BenchRecord[]): string {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${suite}.json`);
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version };
  writeFileSync(file, JSON.stringify({ suite, at: new Date().toISOString(), machine, records }, null, 2) + '\n');
  return file;
}

export function printTable(suite: string, records: readonly BenchRecord[]): void {
  console.log(`\n== ${suite}`);
  console.table(
    records.map((r) => ({
      scenario: r.scenario,
      'per sec': r.throughputPerSec === undefined ? '' : Math.round(r.throughputPerSec),
      'p50 ms': r.p50Ms ?? '',
      'p99 ms': r.p99Ms ?? '',
      count: r.count ?? '',
      ...extraFigures(r),
      note: r.note ?? '',
    })),
  );
}

const STANDARD = new Set(['scenario', 'throughputPerSec', 'p50Ms', 'p90Ms', 'p99Ms', 'count', 'note']);

/** A suite's own numeric figures (commits per saga, rows read, …) as extra columns. */
function extraFigures(r: BenchRecord): Record<string, number> {
  return Object.fromEntries(Object.entries(r).filter(([k, v]) => !STANDARD.has(k) && typeof v === 'number')) as Record<string, number>;
}
