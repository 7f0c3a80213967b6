/**
 * `npm run bench:chart`: draws docs/images/peers.svg from bench/results/peers.json (sagas/s per
 * system at each concurrency, as horizontal bars), so docs/performance.md shows the last run.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Record {
  readonly scenario: string;
  readonly throughputPerSec?: number;
  readonly p99Ms?: number;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const results = JSON.parse(readFileSync(join(root, 'bench', 'results', 'peers.json'), 'utf8')) as { at: string; records: Record[] };

const rows = new Map<string, { c16?: Record; c64?: Record }>();
for (const r of results.records) {
  const m = /^(.*), concurrency (\d+)$/.exec(r.scenario);
  if (!m) continue;
  const row = rows.get(m[1]!) ?? {};
  if (m[2] === '16') row.c16 = r;
  else row.c64 = r;
  rows.set(m[1]!, row);
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const max = Math.max(...results.records.map((r) => r.throughputPerSec ?? 0), 1);
const labelWidth = 420;
const barWidth = 460;
const rowHeight = 46;
const height = 60 + rows.size * rowHeight;
const parts: string[] = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + barWidth + 120}" height="${height}" font-family="sans-serif" font-size="13">`,
  `<rect width="100%" height="100%" fill="white"/>`,
  `<text x="10" y="22" font-size="15" font-weight="bold">Create-order saga, sagas per second (run of ${escape(results.at.slice(0, 16))} UTC)</text>`,
  `<rect x="${labelWidth}" y="32" width="12" height="10" fill="#9ab"/><text x="${labelWidth + 16}" y="41">concurrency 16</text>`,
  `<rect x="${labelWidth + 130}" y="32" width="12" height="10" fill="#246"/><text x="${labelWidth + 146}" y="41">concurrency 64</text>`,
];
let y = 56;
for (const [name, row] of rows) {
  parts.push(`<text x="10" y="${y + 20}">${escape(name)}</text>`);
  for (const [i, r, color] of [[0, row.c16, '#9ab'], [1, row.c64, '#246']] as const) {
    if (!r?.throughputPerSec) continue;
    const w = Math.max(1, (r.throughputPerSec / max) * barWidth);
    const by = y + i * 18;
    parts.push(`<rect x="${labelWidth}" y="${by}" width="${w.toFixed(1)}" height="15" fill="${color}"/>`);
    parts.push(`<text x="${labelWidth + w + 6}" y="${by + 12}">${Math.round(r.throughputPerSec)}/s, p99 ${Math.round(r.p99Ms ?? 0)} ms</text>`);
  }
  y += rowHeight;
}
parts.push('</svg>');
const out = join(root, 'docs', 'images', 'peers.svg');
writeFileSync(out, parts.join('\n') + '\n');
console.log(`wrote ${out}`);
