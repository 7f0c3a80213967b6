import { describe, expect, it } from 'vitest';
import type { ProductFacts } from './recorded-facts.js';
import { assessStock } from './stock-assessment.js';

function facts(p: Partial<Omit<ProductFacts, 'productId'>> = {}): ProductFacts {
  return {
    productId: 1,
    restocks: p.restocks ?? new Map([['restock-1', { quantity: 10, applied: true }]]),
    purchases: p.purchases ?? new Map(),
    adjustments: p.adjustments ?? new Map(),
  };
}
const snapshot = (stock: number | null, ledger: Record<string, string>) => ({ generation: 1, stock, ledger: new Map(Object.entries(ledger)) });

describe('assessStock', () => {
  it('agrees when every ledger entry has its record', () => {
    const f = facts({
      purchases: new Map([
        ['purchase-1', { quantity: 3, state: 'CONFIRMED' }],
        ['purchase-2', { quantity: 2, state: 'PENDING' }],
        ['purchase-3', { quantity: 9, state: 'REJECTED' }],
      ]),
    });
    const a = assessStock(f, snapshot(5, { 'restock-1': '10', 'purchase-1': '-3', 'purchase-2': '-2', 'purchase-3': 'x9' }));
    expect(a).toEqual({ expected: 5, found: 5, missing: [], unexplained: [], target: 5 });
  });

  it('does not count a PENDING purchase Redis has not decided yet, nor a restock not yet applied', () => {
    const f = facts({
      restocks: new Map([
        ['restock-1', { quantity: 10, applied: true }],
        ['restock-2', { quantity: 4, applied: false }],
      ]),
      purchases: new Map([['purchase-1', { quantity: 3, state: 'PENDING' }]]),
    });
    expect(assessStock(f, snapshot(10, { 'restock-1': '10' })).expected).toBe(10);
  });

  it('restores what MySQL proves and the ledger lost', () => {
    const f = facts({ purchases: new Map([['purchase-1', { quantity: 3, state: 'CONFIRMED' }]]) });
    const a = assessStock(f, snapshot(7, { 'restock-1': '10' }));
    expect(a).toMatchObject({ expected: 7, found: 7, missing: [['purchase-1', '-3']], target: 7 });
  });

  it('keeps an unexplained deduction in effect and leaves it to a person', () => {
    const a = assessStock(facts(), snapshot(7, { 'restock-1': '10', 'mystery-1': '-3' }));
    expect(a.expected).toBe(10);
    expect(a.target).toBe(7);
    expect(a.unexplained).toMatchObject([{ messageId: 'mystery-1', delta: -3, reason: 'UNKNOWN_LEDGER_ENTRY' }]);
  });

  it('flags an entry whose quantity disagrees with its record', () => {
    const f = facts({ purchases: new Map([['purchase-1', { quantity: 3, state: 'CONFIRMED' }]]) });
    const a = assessStock(f, snapshot(5, { 'restock-1': '10', 'purchase-1': '-5' }));
    expect(a.unexplained).toMatchObject([{ messageId: 'purchase-1', delta: -5, reason: 'LEDGER_DISAGREES_WITH_RECORD' }]);
    expect(a.expected).toBe(10);
  });

  it('explains an entry written after the first read by the second read', () => {
    const later = facts({ purchases: new Map([['purchase-9', { quantity: 1, state: 'PENDING' }]]) });
    const a = assessStock(facts(), snapshot(9, { 'restock-1': '10', 'purchase-9': '-1' }), later);
    expect(a).toMatchObject({ expected: 9, unexplained: [], target: 9 });
  });

  it('ignores an unexplained refusal: it changed no count', () => {
    expect(assessStock(facts(), snapshot(10, { 'restock-1': '10', 'ghost-1': 'x4' })).unexplained).toEqual([]);
  });
});
