import { InvalidArgumentError, type Clock, type Logger } from '@concord/core';
import { Redis } from 'ioredis';
import { replyPairs, type RedisBrokerClient, type RedisClient } from './redis-client.js';
import { RedisBroker, resolveSettings, type RedisBrokerSettings } from './redis-broker.js';

export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]`; the broker opens and closes its connection. */
  readonly url?: string;
  /** A connection you own (ioredis `Redis`); the broker duplicates it for Pub/Sub, never closes it. */
  readonly redis?: RedisBrokerClient;
}

export type RedisBrokerOptions = RedisConnectionOptions &
  Partial<Omit<RedisBrokerSettings, 'logger' | 'clock'>> & {
    /**
     * What `capabilities.durable` says. Default: detected, true only when the server runs with
     * `appendonly yes` and `appendfsync always` (anything less can lose acknowledged writes on
     * a crash; an in-memory Redis loses everything on restart).
     */
    readonly durable?: boolean;
    readonly logger?: Logger;
    readonly clock?: Clock;
  };

/** Connects (or adopts `redis`), checks the server answers, and returns the broker. */
export async function openRedisBroker(options: RedisBrokerOptions): Promise<RedisBroker> {
  const settings = resolveSettings(options);
  const { redis, owned } = connect(options, 'concord-broker');
  try {
    const durable = options.durable ?? (await detectDurability(redis));
    return new RedisBroker(redis, settings, { partitionedConsumers: true, durable }, owned);
  } catch (error) {
    if (owned) await redis.quit().catch(() => undefined);
    throw error;
  }
}

export function connect(
  options: RedisConnectionOptions,
  connectionName: string,
): { redis: RedisBrokerClient; owned: boolean } {
  if (options.redis && options.url) throw new InvalidArgumentError('give either url or redis, not both');
  if (options.redis) return { redis: options.redis, owned: false };
  if (!options.url) throw new InvalidArgumentError('url or redis is required');
  const redis = new Redis(options.url, { connectionName });
  // ioredis reconnects by itself; without a listener it would print every failed attempt.
  redis.on('error', () => undefined);
  return { redis, owned: true };
}

/** Whether an acknowledged write survives a crash: only with an fsync per write. */
export async function detectDurability(redis: RedisClient): Promise<boolean> {
  let config: Map<string, string>;
  try {
    const reply = await redis.call('CONFIG', 'GET', 'append*');
    config = new Map(replyPairs(reply).map(([k, v]) => [k, String(v)]));
  } catch (error) {
    // CONFIG is often disabled on managed Redis; the server still has to answer.
    if (!(error instanceof Error) || !/unknown command|NOPERM|disabled/i.test(error.message)) throw error;
    await redis.call('PING');
    return false;
  }
  return config.get('appendonly') === 'yes' && config.get('appendfsync') === 'always';
}
