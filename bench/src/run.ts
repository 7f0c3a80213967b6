/**
 * `npm run bench [suite ...]`: runs every suite in ./suites (or the named ones), prints a
 * table per suite and writes bench/results/<suite>.json. Never run by the tests.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { printTable, writeResults, type BenchSuite } from './lib/results.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'suites');
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .sort();

let failed = 0;
for (const file of files) {
  const suite = (await import(pathToFileURL(join(dir, file)).href)).default as BenchSuite;
  if (wanted.length > 0 && !wanted.includes(suite.name)) continue;
  const reason = await suite.skip?.();
  if (reason) {
    console.log(`\n== ${suite.name}: skipped (${reason})`);
    continue;
  }
  const started = Date.now();
  try {
    const records = await suite.run();
    printTable(suite.name, records);
    console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s) → ${writeResults(suite.name, records)}`);
  } catch (error) {
    failed++;
    console.error(`\n== ${suite.name}: FAILED`, error);
  }
}
process.exit(failed > 0 ? 1 : 0);
