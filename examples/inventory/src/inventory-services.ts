import type { Logger, Relay, SqlBroker } from '@concord/core';
import { createMysqlRelay } from '@concord/mysql';
import { Redis } from 'ioredis';
import type { InventoryConfig } from './config.js';
import { PurchaseService } from './purchase-service/purchase-service.js';
import { createStockConsumer } from './purchase-service/stock-consumer.js';
import { mysqlStockRecord } from './purchase-service/stock-record.js';
import { openInventoryStore, type InventoryStore } from './purchase-service/store.js';
import { ReconcileSchedule } from './reconcile/reconcile-schedule.js';
import { Reconciler } from './reconcile/reconciler.js';
import { StockGuardian } from './stock-service/stock-guardian.js';
import { StockKeys } from './stock-service/stock-keys.js';
import { StockService } from './stock-service/stock-service.js';

export interface InventoryServices {
  readonly store: InventoryStore;
  readonly broker: SqlBroker;
  readonly redis: Redis;
  readonly stock: StockService;
  readonly guardian: StockGuardian;
  readonly purchases: PurchaseService;
  readonly reconciler: Reconciler;
  stop(): Promise<void>;
}

/**
 * Starts the Purchase service (MySQL, outbox, relay, consumer) and the Stock service (Redis),
 * and does not return before Redis holds the generation MySQL names: a Redis that came back
 * empty is rebuilt from MySQL before anything is served.
 */
export async function startInventoryServices(config: Omit<InventoryConfig, 'port' | 'host'>, logger: Logger): Promise<InventoryServices> {
  const { store, broker } = await openInventoryStore(config.databaseUrl, logger);
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
  // ioredis reports every failed reconnect; the guardian and the consumer log what matters.
  redis.on('error', () => {});
  const stop: Array<() => Promise<unknown>> = [() => store.close(), () => broker.close(), () => redis.quit().catch(() => redis.disconnect())];
  const stopAll = async () => {
    for (const fn of stop.reverse()) await fn().catch((error: unknown) => logger.warn({ err: error }, 'stop step failed'));
  };
  try {
    await redis.connect();
    const stock = new StockService(redis, new StockKeys(config.redisPrefix));
    const guardian = new StockGuardian({ stock, record: mysqlStockRecord(store), logger, checkIntervalMs: config.stockCheckIntervalMs });
    await guardian.start();
    stop.push(() => guardian.stop());
    const relay: Relay = await createMysqlRelay({ mode: 'polling', store, broker, logger });
    relay.start();
    stop.push(() => relay.stop());
    const consumer = createStockConsumer({ store, broker, stock, logger });
    await consumer.start();
    stop.push(() => consumer.stop());
    const reconciler = new Reconciler(store, stock, guardian, logger);
    const schedule = new ReconcileSchedule(reconciler, config.reconcileIntervalMinutes, logger);
    schedule.start();
    stop.push(() => schedule.stop());
    const purchases = new PurchaseService(store, stock, logger);
    return { store, broker, redis, stock, guardian, purchases, reconciler, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
