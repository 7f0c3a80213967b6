import { InvalidArgumentError } from '@concord/core';
import { Redis } from 'ioredis';
import { replyPairs, type RedisBrokerClient, type RedisClient } from './redis-client.js';
import type { RedisConnectionOptions } from './redis-options.js';

/** Opens a connection from `url`, or adopts the caller's `redis` (then never closes it). */
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
