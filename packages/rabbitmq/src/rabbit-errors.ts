import { ConcordError, type ConcordErrorCode } from '@concord/core';

/** Stable codes of the errors this package raises itself (core's codes cover the rest). */
export const RabbitErrorCode = {
  /** No connection to RabbitMQ within the time allowed, or it dropped mid-operation; retry. */
  RABBIT_UNAVAILABLE: 'RABBIT_UNAVAILABLE',
  /** RabbitMQ refused (nacked) or could not route a message; nothing was stored for it. */
  RABBIT_PUBLISH_REJECTED: 'RABBIT_PUBLISH_REJECTED',
  /** This instance's partition count differs from the one the channel was created with. */
  RABBIT_PARTITION_MISMATCH: 'RABBIT_PARTITION_MISMATCH',
  /** A message on a Concord stream that is not a Concord envelope. */
  RABBIT_BAD_ENVELOPE: 'RABBIT_BAD_ENVELOPE',
} as const;
export type RabbitErrorCode = (typeof RabbitErrorCode)[keyof typeof RabbitErrorCode];

/**
 * Base of this package's errors. Core's `ConcordErrorCode` has no broker-specific member, so
 * the code is widened here; match with `isRabbitError(error, code)`.
 */
export class RabbitError extends ConcordError {
  constructor(code: RabbitErrorCode, message: string, options?: { cause?: unknown }) {
    super(code as unknown as ConcordErrorCode, message, options);
    this.name = 'RabbitError';
  }
}

export class RabbitUnavailableError extends RabbitError {
  constructor(operation: string, cause?: unknown) {
    super(
      RabbitErrorCode.RABBIT_UNAVAILABLE,
      `rabbitmq ${operation} failed: ${cause === undefined ? 'not connected' : errorMessage(cause)}`,
      { cause },
    );
    this.name = 'RabbitUnavailableError';
  }
}

export class RabbitPublishRejectedError extends RabbitError {
  constructor(
    readonly queue: string,
    reason: 'nacked' | 'unroutable',
  ) {
    super(
      RabbitErrorCode.RABBIT_PUBLISH_REJECTED,
      reason === 'nacked' ? `rabbitmq refused a message for ${queue}` : `no queue ${queue} to route a message to (deleted?)`,
    );
    this.name = 'RabbitPublishRejectedError';
  }
}

export class PartitionMismatchError extends RabbitError {
  constructor(
    readonly channel: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(
      RabbitErrorCode.RABBIT_PARTITION_MISMATCH,
      `channel ${channel} has ${actual} partitions but this broker is configured with ${expected}; ` +
        'every instance must use the same count (or delete the channel to change it)',
    );
    this.name = 'PartitionMismatchError';
  }
}

export class BadEnvelopeError extends RabbitError {
  constructor(where: string, detail: string) {
    super(RabbitErrorCode.RABBIT_BAD_ENVELOPE, `not a Concord envelope on ${where}: ${detail}`);
    this.name = 'BadEnvelopeError';
  }
}

export function isRabbitError(error: unknown, code?: RabbitErrorCode): error is RabbitError {
  return error instanceof RabbitError && (code === undefined || (error.code as string) === code);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
