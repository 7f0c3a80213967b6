import type { Redis } from 'ioredis';
import { InventoryError, InventoryErrorCode } from '../inventory-errors.js';
import { StockKeys } from './stock-keys.js';
import { addScript, deductScript, repairScript, reverseEntryScript, snapshotScript } from './stock-scripts.js';

export interface StockOutcome {
  readonly outcome: 'APPLIED' | 'REJECTED';
  /** The Redis generation that decided it; the Purchase service records it only if MySQL agrees. */
  readonly generation: number;
  readonly stock: number;
}

export interface LedgerSnapshot {
  /** null when the marker is gone (Redis lost its data or is being rebuilt). */
  readonly generation: number | null;
  readonly stock: number | null;
  readonly ledger: ReadonlyMap<string, string>;
}

/**
 * The Stock service: counts in Redis, changed only by the scripts in stock-scripts.ts, each
 * keyed by the id of the message that asked for it. It never decides while its generation
 * marker is missing; `onNotReady` tells the guardian to rebuild.
 */
export class StockService {
  onNotReady: () => void = () => {};

  constructor(
    readonly redis: Redis,
    readonly keys: StockKeys,
  ) {}

  /** Takes `quantity` units for `messageId` unless fewer are left: exactly once per message id. */
  async deduct(messageId: string, productId: number, quantity: number): Promise<StockOutcome> {
    return this.decide('deduct', await reach(() => deductScript.run(this.redis, this.keys.forProduct(productId), [messageId, quantity])), productId);
  }

  /** Adds `quantity` units for `messageId`: exactly once per message id. */
  async add(messageId: string, productId: number, quantity: number): Promise<StockOutcome> {
    return this.decide('add', await reach(() => addScript.run(this.redis, this.keys.forProduct(productId), [messageId, quantity])), productId);
  }

  private decide(what: string, reply: unknown, productId: number): StockOutcome {
    const [outcome, generation, stock] = reply as [string, string, string];
    if (outcome === 'NOT_READY') {
      this.onNotReady();
      throw new InventoryError(InventoryErrorCode.STOCK_NOT_READY, `stock ${what} for product ${productId}: Redis holds no stock generation yet`);
    }
    if (outcome === 'MISSING') {
      throw new InventoryError(InventoryErrorCode.STOCK_MISSING, `stock ${what}: Redis has no count for product ${productId}`);
    }
    return { outcome: outcome as StockOutcome['outcome'], generation: Number(generation), stock: Number(stock) };
  }

  /** The count and the ledger of one product, read atomically. */
  async snapshot(productId: number): Promise<LedgerSnapshot> {
    const [generation, stock, pairs] = (await reach(() => snapshotScript.run(this.redis, this.keys.forProduct(productId)))) as [string, string, string[]];
    const ledger = new Map<string, string>();
    for (let i = 0; i + 1 < pairs.length; i += 2) ledger.set(pairs[i]!, pairs[i + 1]!);
    return { generation: generation === '' ? null : Number(generation), stock: stock === '' ? null : Number(stock), ledger };
  }

  /** The generation Redis holds, or null when the marker is gone. */
  async generation(): Promise<number | null> {
    const value = await reach(() => this.redis.get(this.keys.generation));
    return value === null ? null : Number(value);
  }

  /** Applies a proven repair; false when a rebuild replaced the generation meanwhile. */
  async repair(productId: number, generation: number, correction: number, entries: ReadonlyArray<readonly [string, string]>): Promise<boolean> {
    const args: Array<string | number> = [generation, correction];
    for (const [id, value] of entries) args.push(id, value);
    const [status] = (await reach(() => repairScript.run(this.redis, this.keys.forProduct(productId), args))) as [string, string];
    return status === 'OK';
  }

  /** Reverses one ledger entry (a person's decision): 'OK', 'GENERATION_CHANGED' or 'ENTRY_CHANGED'. */
  async reverseEntry(productId: number, generation: number, messageId: string, value: string): Promise<string> {
    const [status] = (await reach(() => reverseEntryScript.run(this.redis, this.keys.forProduct(productId), [generation, messageId, value]))) as [string, string];
    return status;
  }

  /** The count Redis holds for a product (0 when it holds none); throws while not ready. */
  async stock(productId: number): Promise<number> {
    const [generation, stock] = await reach(() => this.redis.mget(this.keys.generation, this.keys.stock(productId)));
    if (generation === null) {
      this.onNotReady();
      throw new InventoryError(InventoryErrorCode.STOCK_NOT_READY, 'the stock is being rebuilt from MySQL');
    }
    return Number(stock ?? 0);
  }
}

/** Runs a Redis call; a connection or server failure becomes STOCK_UNAVAILABLE (nothing was decided). */
async function reach<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new InventoryError(InventoryErrorCode.STOCK_UNAVAILABLE, `Redis: ${(error as Error).message}`, { cause: error });
  }
}
