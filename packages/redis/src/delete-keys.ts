import { InvalidArgumentError } from '@concord/core';
import type { RedisClient } from './redis-client.js';
import { globEscape } from './redis-keys.js';

/**
 * Deletes every key that starts with `prefix` (SCAN + UNLINK in pages, never KEYS), e.g. a
 * test's key prefix or a view's. Returns how many keys went.
 */
export async function deleteKeysWithPrefix(redis: RedisClient, prefix: string): Promise<number> {
  if (prefix.length === 0)
    throw new InvalidArgumentError('refusing to delete every key: the prefix is empty');
  let cursor = '0';
  let deleted = 0;
  do {
    const reply = (await redis.call('SCAN', cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', 1000)) as [
      string,
      string[],
    ];
    cursor = String(reply[0]);
    const keys = reply[1];
    if (keys.length > 0) deleted += Number(await redis.call('UNLINK', ...keys));
  } while (cursor !== '0');
  return deleted;
}
