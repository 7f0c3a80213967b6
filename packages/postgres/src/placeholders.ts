import { createHash } from 'node:crypto';

/**
 * Rewrites core's `?` placeholders as PostgreSQL's `$1, $2, ...`, leaving question marks inside
 * string literals, quoted identifiers, dollar-quoted bodies and comments alone. Results are
 * cached: the same few hundred statements run millions of times.
 */
export class PlaceholderRewriter {
  private readonly cache = new Map<string, string>();
  private readonly names = new Map<string, string>();

  constructor(private readonly maxEntries = 2_000) {}

  /**
   * The statement as `pg` takes it. With parameters it is named, so each connection parses
   * and plans it once and afterwards only binds and executes it: parsing and planning were
   * most of what PostgreSQL spent on Concord's short statements. The name is a hash of the
   * text, so it never means another statement, even after the cache was cleared.
   */
  statement(sql: string, params?: readonly unknown[]): { text: string; name?: string; values?: unknown[] } {
    const text = this.rewrite(sql);
    if (params === undefined || params.length === 0) return { text };
    let name = this.names.get(text);
    if (name === undefined) {
      if (this.names.size >= this.maxEntries) this.names.clear();
      name = `concord_${createHash('sha1').update(text).digest('base64url').slice(0, 22)}`;
      this.names.set(text, name);
    }
    return { text, name, values: params as unknown[] };
  }

  rewrite(sql: string): string {
    const hit = this.cache.get(sql);
    if (hit !== undefined) return hit;
    const out = rewritePlaceholders(sql);
    // Statements built from data (IN lists of varying length) could grow the cache without bound.
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(sql, out);
    return out;
  }
}

export function rewritePlaceholders(sql: string): string {
  if (!sql.includes('?')) return sql;
  let out = '';
  let n = 0;
  let i = 0;
  const len = sql.length;
  while (i < len) {
    const c = sql[i]!;
    if (c === '?') {
      out += `$${++n}`;
      i++;
    } else if (c === "'" || c === '"') {
      const end = closingQuote(sql, i, c);
      out += sql.slice(i, end);
      i = end;
    } else if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      const end = nl === -1 ? len : nl;
      out += sql.slice(i, end);
      i = end;
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      const end = close === -1 ? len : close + 2;
      out += sql.slice(i, end);
      i = end;
    } else if (c === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (tag && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? ' ')) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        const end = close === -1 ? len : close + tag[0].length;
        out += sql.slice(i, end);
        i = end;
      } else {
        out += c;
        i++;
      }
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Index just past the quote that closes the one at `start` (a doubled quote is an escape). */
function closingQuote(sql: string, start: number, quote: string): number {
  let i = start + 1;
  for (;;) {
    const next = sql.indexOf(quote, i);
    if (next === -1) return sql.length;
    if (sql[next + 1] === quote) {
      i = next + 2;
      continue;
    }
    return next + 1;
  }
}
