/**
 * Where the Stock service keeps its data in Redis, all under one prefix (one per test, or per
 * deployment): the generation marker, one count per product and one ledger hash per product.
 */
export class StockKeys {
  constructor(readonly prefix: string) {}

  /** Present while Redis holds a complete generation; gone when Redis lost its data. */
  get generation(): string {
    return `${this.prefix}generation`;
  }

  get rebuildLock(): string {
    return `${this.prefix}rebuild-lock`;
  }

  stock(productId: number): string {
    return `${this.prefix}stock:${productId}`;
  }

  /** Hash: message id -> the change it made ("-5", "10") or "x5" for a deduction refused. */
  ledger(productId: number): string {
    return `${this.prefix}ledger:${productId}`;
  }

  /** The three keys every script touches, in the order the scripts expect them. */
  forProduct(productId: number): [string, string, string] {
    return [this.generation, this.stock(productId), this.ledger(productId)];
  }
}

/** A ledger entry's effect on the count: "-5" -> -5, "10" -> 10, a refusal "x5" -> 0. */
export function ledgerDelta(value: string): number {
  return value.startsWith('x') ? 0 : Number(value);
}
