import { ConcordAdapterError, ConcordErrorCode } from '@concord/core';

/** Reasons carried by this package's errors, stable like `code`: match on them, never on text. */
export const RabbitErrorReason = {
  /** No connection to RabbitMQ within the time allowed, or it dropped mid-operation; retry. */
  UNAVAILABLE: 'UNAVAILABLE',
  /** RabbitMQ refused (nacked) or could not route a message; nothing was stored for it. */
  PUBLISH_REJECTED: 'PUBLISH_REJECTED',
  /** This instance's partition count differs from the one the channel was created with. */
  PARTITION_MISMATCH: 'PARTITION_MISMATCH',
  /** A message on a Concord stream that is not a Concord envelope. */
  BAD_ENVELOPE: 'BAD_ENVELOPE',
} as const;
export type RabbitErrorReason = (typeof RabbitErrorReason)[keyof typeof RabbitErrorReason];

/** Base of this package's errors: a core `code` plus a RabbitMQ-specific `reason`. */
export class RabbitError extends ConcordAdapterError<RabbitErrorReason> {
  constructor(code: ConcordErrorCode, reason: RabbitErrorReason, message: string, options?: { cause?: unknown }) {
    super(code, reason, message, options);
    this.name = 'RabbitError';
  }
}

export class RabbitUnavailableError extends RabbitError {
  constructor(operation: string, cause?: unknown) {
    super(
      ConcordErrorCode.UNAVAILABLE,
      RabbitErrorReason.UNAVAILABLE,
      `rabbitmq ${operation} failed: ${cause === undefined ? 'not connected' : errorMessage(cause)}`,
      { cause },
    );
    this.name = 'RabbitUnavailableError';
  }
}

/**
 * Not core's MessageRejectedError (which parks the message for good): a nack or a deleted
 * stream passes, and the next publish of the same message may succeed.
 */
export class RabbitPublishRejectedError extends RabbitError {
  constructor(
    readonly queue: string,
    reason: 'nacked' | 'unroutable',
  ) {
    super(
      ConcordErrorCode.UNAVAILABLE,
      RabbitErrorReason.PUBLISH_REJECTED,
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
      ConcordErrorCode.ILLEGAL_STATE,
      RabbitErrorReason.PARTITION_MISMATCH,
      `channel ${channel} has ${actual} partitions but this broker is configured with ${expected}; ` +
        'every instance must use the same count (or delete the channel to change it)',
    );
    this.name = 'PartitionMismatchError';
  }
}

export class BadEnvelopeError extends RabbitError {
  constructor(where: string, detail: string) {
    super(ConcordErrorCode.UNDECODABLE_MESSAGE, RabbitErrorReason.BAD_ENVELOPE, `not a Concord envelope on ${where}: ${detail}`);
    this.name = 'BadEnvelopeError';
  }
}

export function isRabbitError(error: unknown, reason?: RabbitErrorReason): error is RabbitError {
  return error instanceof RabbitError && (reason === undefined || error.reason === reason);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
