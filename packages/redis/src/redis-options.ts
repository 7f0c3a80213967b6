import { InvalidArgumentError, defaultLogger, systemClock, type Clock, type Logger } from '@concord/core';
import type { RedisBrokerClient } from './redis-client.js';

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

export interface RedisBrokerSettings {
  readonly keyPrefix: string;
  /** Partitions of a channel first used by this instance; the first count recorded wins. */
  readonly partitions: number;
  readonly leaseMs: number;
  /** Fallback poll of an idle partition when no Pub/Sub wake-up came. */
  readonly pollIntervalMs: number;
  readonly maxBatchSize: number;
  /**
   * Target length per partition stream: above it, every entry that ALL groups acknowledged is
   * trimmed at once, whatever its age. Entries some group has not acknowledged are never
   * trimmed (there is no cap on XADD). null: trim by `retentionMs` only.
   */
  readonly maxLen: number | null;
  /** Entries older than this AND acknowledged by every group are trimmed; null: never. */
  readonly retentionMs: number | null;
  readonly trimIntervalMs: number;
  readonly logger: Logger;
  readonly clock: Clock;
}

export const defaultRedisBrokerSettings = {
  keyPrefix: 'concord:',
  partitions: 16,
  leaseMs: 10_000,
  pollIntervalMs: 500,
  maxBatchSize: 256,
  maxLen: 100_000,
  retentionMs: 24 * 3_600_000,
  trimIntervalMs: 30_000,
} as const;

export function resolveSettings(
  options: Partial<Omit<RedisBrokerSettings, 'logger' | 'clock'>> & { logger?: Logger; clock?: Clock },
): RedisBrokerSettings {
  const d = defaultRedisBrokerSettings;
  const settings: RedisBrokerSettings = {
    keyPrefix: options.keyPrefix ?? d.keyPrefix,
    partitions: options.partitions ?? d.partitions,
    leaseMs: options.leaseMs ?? d.leaseMs,
    pollIntervalMs: options.pollIntervalMs ?? d.pollIntervalMs,
    maxBatchSize: options.maxBatchSize ?? d.maxBatchSize,
    maxLen: options.maxLen === undefined ? d.maxLen : options.maxLen,
    retentionMs: options.retentionMs === undefined ? d.retentionMs : options.retentionMs,
    trimIntervalMs: options.trimIntervalMs ?? d.trimIntervalMs,
    logger: (options.logger ?? defaultLogger()).child({ component: 'redis-broker' }),
    clock: options.clock ?? systemClock,
  };
  const positive = (name: string, value: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isInteger(value) || value < 1 || value > max) {
      throw new InvalidArgumentError(`${name} must be an integer from 1 to ${max}, got ${value}`);
    }
  };
  positive('partitions', settings.partitions, 1024);
  positive('leaseMs', settings.leaseMs);
  positive('pollIntervalMs', settings.pollIntervalMs);
  positive('maxBatchSize', settings.maxBatchSize, 1000);
  positive('trimIntervalMs', settings.trimIntervalMs);
  if (settings.maxLen !== null) positive('maxLen', settings.maxLen);
  if (settings.retentionMs !== null) positive('retentionMs', settings.retentionMs);
  if (typeof settings.keyPrefix !== 'string' || /[{}\s]/.test(settings.keyPrefix)) {
    throw new InvalidArgumentError(
      `keyPrefix must be a string without braces or spaces, got "${settings.keyPrefix}"`,
    );
  }
  return settings;
}
