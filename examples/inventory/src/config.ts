import { InvalidArgumentError } from '@concord/core';

export interface InventoryConfig {
  readonly port: number;
  readonly host: string;
  /** The Purchase service's MySQL database, created when missing. */
  readonly databaseUrl: string;
  /** The Stock service's Redis. */
  readonly redisUrl: string;
  /** Every Redis key of this deployment starts with it. */
  readonly redisPrefix: string;
  /** Minutes between scheduled reconciliations; 0 turns the schedule off. */
  readonly reconcileIntervalMinutes: number;
  /** How often the stock guardian looks for a lost Redis. */
  readonly stockCheckIntervalMs: number;
}

/** Reads the example's settings from the environment, refusing bad values by name. */
export function readConfig(env: Record<string, string | undefined> = process.env): InventoryConfig {
  const port = Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidArgumentError(`PORT must be a port number, got "${env.PORT}"`);
  const databaseUrl = env.CONCORD_DATABASE_URL || 'mysql://root@127.0.0.1:3306/concord_inventory';
  if (!/^(mysql|mariadb):\/\//.test(databaseUrl)) throw new InvalidArgumentError(`CONCORD_DATABASE_URL must start with mysql://, got "${databaseUrl}"`);
  const redisUrl = env.CONCORD_REDIS_URL || 'redis://127.0.0.1:6379';
  if (!/^rediss?:\/\//.test(redisUrl)) throw new InvalidArgumentError(`CONCORD_REDIS_URL must start with redis://, got "${redisUrl}"`);
  const minutes = Number(env.CONCORD_RECONCILE_INTERVAL_MINUTES ?? 5);
  if (!Number.isFinite(minutes) || minutes < 0) {
    throw new InvalidArgumentError(`CONCORD_RECONCILE_INTERVAL_MINUTES must be a number of minutes (0 = off), got "${env.CONCORD_RECONCILE_INTERVAL_MINUTES}"`);
  }
  const checkMs = Number(env.CONCORD_STOCK_CHECK_INTERVAL_MS ?? 500);
  if (!Number.isInteger(checkMs) || checkMs < 10) throw new InvalidArgumentError(`CONCORD_STOCK_CHECK_INTERVAL_MS must be at least 10, got "${env.CONCORD_STOCK_CHECK_INTERVAL_MS}"`);
  return {
    port,
    host: env.HOST || '127.0.0.1',
    databaseUrl: databaseUrl.replace(/^mariadb:/, 'mysql:'),
    redisUrl,
    redisPrefix: env.CONCORD_REDIS_PREFIX ?? 'concord-inventory:',
    reconcileIntervalMinutes: minutes,
    stockCheckIntervalMs: checkMs,
  };
}
