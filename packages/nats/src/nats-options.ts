import { defaultLogger, InvalidArgumentError, type Logger } from '@concord/core';
import { isValidStreamPrefix } from './nats-names.js';

export interface NatsBrokerOptions {
  /** NATS server URLs, e.g. `nats://127.0.0.1:4222`. */
  readonly servers: string | readonly string[];
  /** Partitions of a channel this broker creates. The first instance records it; all others follow. Default 16. */
  readonly partitions?: number;
  /**
   * How long a partition lease or a group membership lives without renewal. Renewed every
   * third of it. The first instance records it in the lease stream; all others follow. Default 10 s.
   */
  readonly leaseMs?: number;
  /** Prefix of every stream and subject: letters, digits and '-'. Default `concord`. */
  readonly streamPrefix?: string;
  /** Most messages handed to a handler at once. Default 256. */
  readonly maxBatchSize?: number;
  /** Messages older than this are dropped from channel streams; 0 keeps them forever. Default 7 days. */
  readonly retentionMs?: number;
  /** Window in which JetStream drops a republished message id. Default 2 minutes. */
  readonly duplicateWindowMs?: number;
  /** How long JetStream waits for an ack before redelivering. Default 30 s. */
  readonly ackWaitMs?: number;
  /** How long one pull request waits on the server for messages. Default 5 s. */
  readonly pullExpiresMs?: number;
  /** How long `publish` waits for each PubAck. Default 5 s. */
  readonly publishTimeoutMs?: number;
  /** Stream storage. Default `file` (messages survive a server restart). */
  readonly storage?: 'file' | 'memory';
  /** Replicas of every stream this broker creates (a clustered server wants 3). Default 1. */
  readonly replicas?: number;
  /** Connection name shown by the server's monitoring. */
  readonly connectionName?: string;
  readonly logger?: Logger;
}

export interface NatsBrokerSettings {
  readonly servers: string[];
  readonly partitions: number;
  readonly leaseMs: number;
  readonly streamPrefix: string;
  readonly maxBatchSize: number;
  readonly retentionMs: number;
  readonly duplicateWindowMs: number;
  readonly ackWaitMs: number;
  readonly pullExpiresMs: number;
  readonly publishTimeoutMs: number;
  readonly storage: 'file' | 'memory';
  readonly replicas: number;
  readonly connectionName: string;
  readonly logger: Logger;
}

function positiveInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

export function resolveSettings(options: NatsBrokerOptions): NatsBrokerSettings {
  const servers = typeof options.servers === 'string' ? [options.servers] : [...(options.servers ?? [])];
  if (servers.length === 0) throw new InvalidArgumentError('servers must name at least one NATS server');
  const streamPrefix = options.streamPrefix ?? 'concord';
  if (!isValidStreamPrefix(streamPrefix)) {
    throw new InvalidArgumentError(`streamPrefix "${streamPrefix}" must be 1-40 letters, digits or '-'`);
  }
  const day = 86_400_000;
  return {
    servers,
    partitions: positiveInteger('partitions', options.partitions ?? 16, 1, 1024),
    leaseMs: positiveInteger('leaseMs', options.leaseMs ?? 10_000, 300, 3_600_000),
    streamPrefix,
    maxBatchSize: positiveInteger('maxBatchSize', options.maxBatchSize ?? 256, 1, 10_000),
    retentionMs: positiveInteger('retentionMs', options.retentionMs ?? 7 * day, 0, 3650 * day),
    duplicateWindowMs: positiveInteger('duplicateWindowMs', options.duplicateWindowMs ?? 120_000, 100, day),
    ackWaitMs: positiveInteger('ackWaitMs', options.ackWaitMs ?? 30_000, 1_000, day),
    pullExpiresMs: positiveInteger('pullExpiresMs', options.pullExpiresMs ?? 5_000, 1_000, 300_000),
    publishTimeoutMs: positiveInteger('publishTimeoutMs', options.publishTimeoutMs ?? 5_000, 100, 600_000),
    storage: options.storage ?? 'file',
    replicas: positiveInteger('replicas', options.replicas ?? 1, 1, 5),
    connectionName: options.connectionName ?? 'concord',
    logger: options.logger ?? defaultLogger(),
  };
}
