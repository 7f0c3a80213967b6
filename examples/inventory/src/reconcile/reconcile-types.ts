/** `POST /admin/reconcile`'s answer: exactly these four fields (the public contract). */
export interface ReconcileReport {
  /** Products compared. */
  readonly checked: number;
  /** Products whose Redis count differs from what MySQL says it must be. */
  readonly drifted: ReadonlyArray<{ productId: number; expected: number; found: number | null }>;
  readonly repaired: readonly Repair[];
  readonly needsPerson: readonly NeedsPersonItem[];
}

export interface Repair {
  readonly productId: number;
  readonly from: number | null;
  readonly to: number;
  /** Ledger entries MySQL proves and Redis had lost, restored with the count. */
  readonly restoredEntries: readonly string[];
  readonly why: string;
}

export type ItemState = 'OPEN' | 'RESOLVED';
export type Decision = 'reverse' | 'accept';

/** A ledger entry in Redis that no record in MySQL explains: only a person can say what it was. */
export interface NeedsPersonItem {
  readonly itemId: number;
  readonly productId: number;
  readonly messageId: string;
  /** What the entry did to the count (-3: three units went out). */
  readonly delta: number;
  readonly reason: 'UNKNOWN_LEDGER_ENTRY' | 'LEDGER_DISAGREES_WITH_RECORD';
  readonly description: string;
  readonly state: ItemState;
  readonly createdAt: number;
  readonly resolvedBy: string | null;
  readonly resolvedAt: number | null;
  readonly resolution: Decision | null;
  readonly note: string | null;
}

export interface ReconcileRun {
  readonly runId: number;
  readonly actor: string;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly report: ReconcileReport;
}

export interface ReconcileAction {
  readonly actionId: number;
  readonly runId: number | null;
  readonly itemId: number | null;
  readonly productId: number;
  readonly kind: 'REPAIR' | 'LISTED_FOR_PERSON' | 'RESOLVE';
  readonly actor: string;
  readonly at: number;
  readonly why: string;
  readonly detail: unknown;
}
