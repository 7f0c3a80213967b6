import { InvalidArgumentError, defaultLogger, systemClock, type Clock, type Logger } from '@concord/core';

/** How long a channel's streams keep messages; see RabbitMQ's stream retention settings. */
export interface StreamRetention {
  /** `x-max-age`, e.g. `7D`, `12h`; older segments are deleted. Default `7D`. Null keeps everything. */
  readonly maxAge?: string | null;
  /** `x-max-length-bytes` per partition stream. Default: no limit. */
  readonly maxLengthBytes?: number;
  /** `x-stream-max-segment-size-bytes`: retention drops whole segments. Default 50 MB. */
  readonly maxSegmentSizeBytes?: number;
}

export interface RabbitBrokerOptions {
  /** `amqp://user:password@host:port/vhost`; `?heartbeat=` is added when missing. */
  readonly url: string;
  /** Partitions of every channel this instance creates; all instances must agree. Default 16. */
  readonly partitions?: number;
  /** First part of every queue and exchange name. Default `concord`. */
  readonly prefix?: string;
  /** Largest batch handed to a handler. Default 256. */
  readonly maxBatchSize?: number;
  /** Unacknowledged stream deliveries per partition consumer. Default 2 × maxBatchSize. */
  readonly prefetch?: number;
  /** Longest time a handled batch's offset waits before it is committed. Default 200 ms. */
  readonly commitIntervalMs?: number;
  /** A group member not heard of for this long is gone; members beat every third of it. Default 6 s. */
  readonly memberTimeoutMs?: number;
  /** AMQP heartbeat in seconds: how fast a silent, dead TCP connection is noticed. Default 10. */
  readonly heartbeatSeconds?: number;
  /** How long `publish` waits for a connection and for confirms before it fails. Default 30 s. */
  readonly publishTimeoutMs?: number;
  /** Attempts to reach RabbitMQ in `openRabbitBroker` before it gives up. Default 5. */
  readonly connectAttempts?: number;
  /** Longest pause between reconnection attempts after a connection is lost. Default 5 s. */
  readonly maxReconnectDelayMs?: number;
  readonly retention?: StreamRetention;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

export interface RabbitBrokerSettings {
  readonly partitions: number;
  readonly prefix: string;
  readonly maxBatchSize: number;
  readonly prefetch: number;
  readonly commitIntervalMs: number;
  readonly memberTimeoutMs: number;
  readonly heartbeatSeconds: number;
  readonly publishTimeoutMs: number;
  readonly connectAttempts: number;
  readonly maxReconnectDelayMs: number;
  readonly retention: Required<Omit<StreamRetention, 'maxLengthBytes'>> & Pick<StreamRetention, 'maxLengthBytes'>;
  readonly logger: Logger;
  readonly clock: Clock;
}

function positiveInt(name: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer from 1 to ${max}, got ${value}`);
  }
  return value;
}

export function resolveSettings(options: RabbitBrokerOptions): RabbitBrokerSettings {
  if (typeof options.url !== 'string' || !/^amqps?:\/\//.test(options.url)) {
    throw new InvalidArgumentError(`url must be an amqp:// or amqps:// URL, got ${String(options.url)}`);
  }
  const maxBatchSize = positiveInt('maxBatchSize', options.maxBatchSize ?? 256, 10_000);
  const retention = options.retention ?? {};
  return {
    partitions: positiveInt('partitions', options.partitions ?? 16, 1024),
    prefix: options.prefix ?? 'concord',
    maxBatchSize,
    prefetch: positiveInt('prefetch', options.prefetch ?? 2 * maxBatchSize, 65_535),
    commitIntervalMs: positiveInt('commitIntervalMs', options.commitIntervalMs ?? 200, 60_000),
    memberTimeoutMs: positiveInt('memberTimeoutMs', options.memberTimeoutMs ?? 6_000),
    heartbeatSeconds: positiveInt('heartbeatSeconds', options.heartbeatSeconds ?? 10, 3_600),
    publishTimeoutMs: positiveInt('publishTimeoutMs', options.publishTimeoutMs ?? 30_000),
    connectAttempts: positiveInt('connectAttempts', options.connectAttempts ?? 5, 1_000),
    maxReconnectDelayMs: positiveInt('maxReconnectDelayMs', options.maxReconnectDelayMs ?? 5_000),
    retention: {
      maxAge: retention.maxAge === undefined ? '7D' : retention.maxAge,
      maxSegmentSizeBytes: positiveInt('retention.maxSegmentSizeBytes', retention.maxSegmentSizeBytes ?? 50_000_000),
      ...(retention.maxLengthBytes !== undefined
        ? { maxLengthBytes: positiveInt('retention.maxLengthBytes', retention.maxLengthBytes) }
        : {}),
    },
    logger: options.logger ?? defaultLogger(),
    clock: options.clock ?? systemClock,
  };
}
