import { randomUUID } from 'node:crypto';
import type { Logger } from '@concord/core';
import { InventoryError, InventoryErrorCode } from '../inventory-errors.js';
import type { StockKeys } from './stock-keys.js';
import type { StockService } from './stock-service.js';
import { releaseLockScript } from './stock-scripts.js';

/** What Redis must hold for one product, as the record (MySQL) says. */
export interface RecordedStock {
  readonly productId: number;
  readonly stock: number;
  /** Ledger entries: every restock, every confirmed purchase, every accepted adjustment. */
  readonly ledger: ReadonlyArray<readonly [string, string]>;
}

/** The Stock service's view of the record it is rebuilt from (the Purchase service's MySQL). */
export interface StockRecord {
  currentGeneration(): Promise<number>;
  /**
   * Starts a new generation in its own transaction. It waits for every outcome being recorded
   * under the old one (they hold a shared lock on the generation row), and outcomes decided by
   * the old Redis that were not recorded yet will fail their generation check and be decided again.
   */
  nextGeneration(): Promise<number>;
  /** Read after `nextGeneration()` committed, so it sees every outcome recorded under older ones. */
  recordedStock(): Promise<RecordedStock[]>;
}

export interface StockGuardianOptions {
  readonly stock: StockService;
  readonly record: StockRecord;
  readonly logger: Logger;
  /** How often the marker is checked when nothing else notices a loss first. Default 500 ms. */
  readonly checkIntervalMs?: number;
  /** A rebuilder that died holding the lock frees it after this long. Default 15 s. */
  readonly lockMs?: number;
}

/**
 * Watches the generation marker and rebuilds Redis from MySQL when it is gone (Redis restarted
 * empty, or flushed) or names another generation than MySQL (Redis kept data of an older
 * database). Until the rebuild is complete, every stock script refuses to act, so nothing is
 * sold against a count Redis no longer has; purchases stay PENDING and their messages retry.
 */
export class StockGuardian {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readyWaiters: Array<() => void> = [];
  private stopped = false;
  rebuilds = 0;

  constructor(private readonly options: StockGuardianOptions) {
    options.stock.onNotReady = () => this.wake();
  }

  /** Checks at once, and then every `checkIntervalMs`; resolves once Redis is ready. */
  async start(): Promise<void> {
    this.stopped = false;
    this.schedule();
    await this.ready();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /**
   * Resolves when Redis holds the generation MySQL names; with `timeoutMs`, rejects with
   * STOCK_NOT_READY when it does not by then (Redis down for longer, say).
   */
  async ready(timeoutMs?: number): Promise<void> {
    if ((await this.check().catch(() => 'stale')) === 'ready') return;
    this.wake();
    await new Promise<void>((resolve, reject) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.readyWaiters = this.readyWaiters.filter((w) => w !== waiter);
              reject(new InventoryError(InventoryErrorCode.STOCK_NOT_READY, `Redis does not hold the stock yet (waited ${timeoutMs} ms); try again`));
            }, timeoutMs);
      this.readyWaiters.push(waiter);
    });
  }

  wake(): void {
    if (!this.stopped && !this.running) this.schedule(0);
  }

  private schedule(delayMs = 0): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running ??= this.round().finally(() => {
        this.running = undefined;
        if (!this.stopped) this.schedule(this.options.checkIntervalMs ?? 500);
      });
    }, delayMs);
  }

  private async round(): Promise<void> {
    try {
      if ((await this.check()) === 'stale') await this.rebuild();
      if ((await this.check()) === 'ready') {
        for (const resolve of this.readyWaiters.splice(0)) resolve();
      }
    } catch (error) {
      this.options.logger.warn({ err: error }, 'stock check failed; trying again');
    }
  }

  private async check(): Promise<'ready' | 'stale'> {
    const [inRedis, inMysql] = await Promise.all([this.options.stock.generation(), this.options.record.currentGeneration()]);
    return inRedis !== null && inRedis === inMysql ? 'ready' : 'stale';
  }

  /** One rebuilder at a time (a Redis lock); the others wait for its marker. */
  private async rebuild(): Promise<void> {
    const { stock, record, logger } = this.options;
    const { redis, keys } = stock;
    const token = randomUUID();
    if ((await redis.set(keys.rebuildLock, token, 'PX', this.options.lockMs ?? 15_000, 'NX')) !== 'OK') return;
    try {
      // First make every script refuse, then move MySQL to a new generation.
      await redis.del(keys.generation);
      const generation = await record.nextGeneration();
      const products = await record.recordedStock();
      const stale = await staleKeys(stock.redis, keys);
      // One MULTI: if Redis dies half way, the marker is not there and the next rebuild starts over.
      const multi = redis.multi();
      if (stale.length > 0) multi.del(...stale);
      for (const p of products) {
        multi.set(keys.stock(p.productId), String(p.stock));
        for (let i = 0; i < p.ledger.length; i += 500) {
          multi.hset(keys.ledger(p.productId), Object.fromEntries(p.ledger.slice(i, i + 500)));
        }
      }
      multi.set(keys.generation, String(generation));
      const results = await multi.exec();
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw failed?.[0] ?? new Error('rebuild transaction was discarded');
      this.rebuilds++;
      logger.warn({ generation, products: products.length }, 'stock rebuilt in Redis from MySQL');
    } finally {
      await releaseLockScript.run(redis, [keys.rebuildLock], [token]).catch(() => {});
    }
  }
}

/** The counts and ledgers of an older generation, to be replaced. */
async function staleKeys(redis: StockService['redis'], keys: StockKeys): Promise<string[]> {
  const found: string[] = [];
  const prefix = keys.prefix.replace(/[*?[\]\\]/g, '\\$&');
  for (const pattern of [`${prefix}stock:*`, `${prefix}ledger:*`]) {
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
  }
  return found;
}
