import { silentLogger, createLogger, type Logger } from '@concord/core';
import { uniqueName } from '@concord/core/testing';
import { dropMysqlDatabase } from '@concord/mysql';
import { deleteKeysWithPrefix } from '@concord/redis';
import { Redis } from 'ioredis';
import { startInventoryServices, type InventoryServices } from '../src/inventory-services.js';

export const MYSQL_SERVER = process.env.CONCORD_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
export const REDIS_URL = process.env.CONCORD_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** One test's own database and Redis key prefix, both removed by `drop()`. */
export interface TestPlace {
  readonly databaseUrl: string;
  readonly redisPrefix: string;
  /** A Redis connection of the test's own, for planting drift and emptying the prefix. */
  readonly redis: Redis;
  drop(): Promise<void>;
}

export function testPlace(name: string): TestPlace {
  const id = uniqueName(`concord_inv_${name}`).slice(0, 60);
  const databaseUrl = `${MYSQL_SERVER.replace(/\/+$/, '')}/${id}`;
  const redisPrefix = `${id}:`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  redis.on('error', () => {});
  return {
    databaseUrl,
    redisPrefix,
    redis,
    async drop() {
      await dropMysqlDatabase(databaseUrl).catch(() => {});
      await deleteKeysWithPrefix(redis, redisPrefix).catch(() => {});
      redis.disconnect();
    },
  };
}

export function testLogger(): Logger {
  return process.env.CONCORD_TEST_LOG ? createLogger({ name: 'inventory-test', level: process.env.CONCORD_TEST_LOG }) : silentLogger;
}

export function startServices(place: TestPlace, logger = testLogger()): Promise<InventoryServices> {
  return startInventoryServices(
    { databaseUrl: place.databaseUrl, redisUrl: REDIS_URL, redisPrefix: place.redisPrefix, reconcileIntervalMinutes: 0, stockCheckIntervalMs: 100 },
    logger,
  );
}

/**
 * Empties the test's prefix in one DEL, as a Redis restarted without persistence would be:
 * every count, every ledger and the generation marker vanish at the same instant.
 */
export async function loseRedisData(redis: Redis, prefix: string): Promise<number> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys.length ? redis.del(...keys) : 0;
}

/** How many of `ids` are still PENDING, in one query. */
export async function pendingCount(app: InventoryServices, ids: readonly number[]): Promise<number> {
  return app.store.transaction(async (tx) => {
    const [rows] = await tx.handle.query(
      `SELECT COUNT(*) AS n FROM inventory_purchases WHERE state = 'PENDING' AND id IN (${ids.map(() => '?').join(',')})`,
      [...ids],
    );
    return Number((rows as Array<{ n: number }>)[0]!.n);
  });
}
