import type { LedgerSnapshot } from '../stock-service/stock-service.js';
import { ledgerDelta } from '../stock-service/stock-keys.js';
import type { ProductFacts } from './recorded-facts.js';

export interface Unexplained {
  readonly messageId: string;
  readonly value: string;
  readonly delta: number;
  readonly reason: 'UNKNOWN_LEDGER_ENTRY' | 'LEDGER_DISAGREES_WITH_RECORD';
  readonly description: string;
}

export interface StockAssessment {
  /** What Redis must hold as MySQL proves it. */
  readonly expected: number;
  readonly found: number | null;
  /** Entries MySQL proves and the ledger lacks: [message id, ledger value]. */
  readonly missing: ReadonlyArray<readonly [string, string]>;
  /** Entries nothing in MySQL explains: for a person. */
  readonly unexplained: readonly Unexplained[];
  /** The count to restore: the record, with the unexplained entries left in effect until a person decides. */
  readonly target: number;
}

type Verdict = 'known' | Omit<Unexplained, 'messageId' | 'value' | 'delta'>;

/** How one ledger entry compares with the record. */
function judge(facts: ProductFacts, id: string, value: string): Verdict | undefined {
  const refused = value.startsWith('x');
  const delta = ledgerDelta(value);
  const quantity = refused ? Number(value.slice(1)) : Math.abs(delta);
  const disagrees = (record: string): Verdict => ({
    reason: 'LEDGER_DISAGREES_WITH_RECORD',
    description: `Redis recorded "${value}" for ${id}, but MySQL records ${record}`,
  });
  const restock = facts.restocks.get(id);
  if (restock) return !refused && delta === restock.quantity ? 'known' : disagrees(`a restock of ${restock.quantity}`);
  const purchase = facts.purchases.get(id);
  if (purchase) {
    const fits = quantity === purchase.quantity && (refused ? purchase.state !== 'CONFIRMED' : purchase.state !== 'REJECTED');
    return fits ? 'known' : disagrees(`a ${purchase.state} purchase of ${purchase.quantity}`);
  }
  const adjustment = facts.adjustments.get(id);
  if (adjustment !== undefined) return delta === adjustment ? 'known' : disagrees(`an accepted adjustment of ${adjustment}`);
  return undefined;
}

/**
 * Compares one product's Redis ledger with MySQL. `facts` was read before the snapshot and
 * `later` (when given) after it, so an entry written between the two reads (a purchase made
 * meanwhile) is explained by `later` instead of being reported.
 */
export function assessStock(facts: ProductFacts, snapshot: LedgerSnapshot, later?: ProductFacts): StockAssessment {
  let expected = 0;
  let unexplainedSum = 0;
  const unexplained: Unexplained[] = [];
  for (const [id, value] of snapshot.ledger) {
    const verdict = judge(facts, id, value) ?? (later && judge(later, id, value));
    const delta = ledgerDelta(value);
    if (verdict === 'known') {
      expected += delta;
    } else if (verdict) {
      unexplained.push({ messageId: id, value, delta, ...(verdict as Pick<Unexplained, 'reason' | 'description'>) });
      unexplainedSum += delta;
    } else if (!value.startsWith('x')) {
      // A refusal nothing explains changed no count: not worth a person's time.
      unexplained.push({
        messageId: id,
        value,
        delta,
        reason: 'UNKNOWN_LEDGER_ENTRY',
        description: `Redis applied ${delta > 0 ? '+' : ''}${delta} for "${id}", and MySQL has no purchase, restock or accepted adjustment behind it`,
      });
      unexplainedSum += delta;
    }
  }
  const missing: Array<readonly [string, string]> = [];
  const ledger = snapshot.ledger;
  for (const [id, p] of facts.purchases) if (p.state === 'CONFIRMED' && !ledger.has(id)) missing.push([id, `-${p.quantity}`]);
  for (const [id, r] of facts.restocks) if (r.applied && !ledger.has(id)) missing.push([id, String(r.quantity)]);
  for (const [id, delta] of facts.adjustments) if (!ledger.has(id)) missing.push([id, String(delta)]);
  for (const [, value] of missing) expected += ledgerDelta(value);
  return { expected, found: snapshot.stock, missing, unexplained, target: expected + unexplainedSum };
}
