import { describe, expect, it } from 'vitest';
import { PlaceholderRewriter, rewritePlaceholders } from './placeholders.js';

describe('placeholder rewriting', () => {
  it('numbers ? in order', () => {
    expect(rewritePlaceholders('SELECT * FROM t WHERE a = ? AND b IN (?, ?) LIMIT ?')).toBe(
      'SELECT * FROM t WHERE a = $1 AND b IN ($2, $3) LIMIT $4',
    );
  });

  it('leaves literals, quoted identifiers, comments and dollar quotes alone', () => {
    expect(rewritePlaceholders(`UPDATE t SET owner = '', note = 'why?' WHERE "odd?col" = ? -- really?\nAND x = ?`)).toBe(
      `UPDATE t SET owner = '', note = 'why?' WHERE "odd?col" = $1 -- really?\nAND x = $2`,
    );
    expect(rewritePlaceholders(`SELECT 'it''s ?', ? /* ? */, $tag$ ? $tag$, $$?$$, ?`)).toBe(
      `SELECT 'it''s ?', $1 /* ? */, $tag$ ? $tag$, $$?$$, $2`,
    );
  });

  it('keeps positional parameters and casts untouched', () => {
    expect(rewritePlaceholders('SELECT ?::bigint[], x$1')).toBe('SELECT $1::bigint[], x$1');
  });

  it('caches and stays bounded', () => {
    const r = new PlaceholderRewriter(2);
    expect(r.rewrite('a = ?')).toBe('a = $1');
    expect(r.rewrite('a = ?')).toBe('a = $1');
    r.rewrite('b = ?');
    r.rewrite('c = ?');
    expect(r.rewrite('c = ?')).toBe('c = $1');
  });
});
