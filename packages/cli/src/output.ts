/** Where a command writes: stdout for results, stderr for progress and errors. */
export interface Output {
  readonly json: boolean;
  print(text: string): void;
  /** Prints `value` as JSON (one document, for scripts) or calls `human` for people. */
  result(value: unknown, human: () => string): void;
}

export function createOutput(json: boolean, write: (text: string) => void = (t) => process.stdout.write(t)): Output {
  return {
    json,
    print: (text) => write(text.endsWith('\n') ? text : `${text}\n`),
    result(value, human) {
      write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human().replace(/\n?$/, '\n')}`);
    },
  };
}

export type Cell = string | number | boolean | null | undefined;

/** A plain-text table: a header row, then columns padded to their widest cell. */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[], empty = '(none)'): string {
  if (rows.length === 0) return empty;
  const text = rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c)).replace(/\s+/g, ' ')));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => Math.min(60, (r[i] ?? '').length))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (c.length > 60 ? `${c.slice(0, 59)}…` : c).padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n');
}

/** `key: value` lines, keys aligned. */
export function fields(pairs: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v === null || v === undefined ? '-' : String(v)}`).join('\n');
}

export function time(epochMs: number | null | undefined): string {
  return epochMs ? new Date(epochMs).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}

export function age(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 120_000) return `${(ms / 1_000).toFixed(1)}s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m`;
  return `${(ms / 3_600_000).toFixed(1)}h`;
}
