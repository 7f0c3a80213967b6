import { ConcordAdapterError, ConcordErrorCode } from '@concord/core';

/** Reasons carried by this package's errors, stable like `code`: match on them, never on text. */
export const NatsErrorReason = {
  CONNECTION_FAILED: 'CONNECTION_FAILED',
  PUBLISH_FAILED: 'PUBLISH_FAILED',
  TOPOLOGY_FAILED: 'TOPOLOGY_FAILED',
} as const;
export type NatsErrorReason = (typeof NatsErrorReason)[keyof typeof NatsErrorReason];

/** Base of this package's errors: a core `code` plus a NATS-specific `reason`. */
export class NatsBrokerError extends ConcordAdapterError<NatsErrorReason> {
  constructor(code: ConcordErrorCode, reason: NatsErrorReason, message: string, options?: { cause?: unknown }) {
    super(code, reason, message, options);
    this.name = 'NatsBrokerError';
  }
}

/** The first connection to the NATS servers could not be made. */
export class NatsConnectionError extends NatsBrokerError {
  constructor(servers: string, cause: unknown) {
    super(ConcordErrorCode.ILLEGAL_STATE, NatsErrorReason.CONNECTION_FAILED, `cannot connect to NATS at ${servers}: ${describe(cause)}`, {
      cause,
    });
    this.name = 'NatsConnectionError';
  }
}

/**
 * JetStream did not acknowledge a message (timeout, no stream, server error). Messages of the
 * same call published before it may be stored; the caller republishes (ids deduplicate).
 */
export class NatsPublishError extends NatsBrokerError {
  constructor(
    readonly messageId: string,
    readonly subject: string,
    cause: unknown,
  ) {
    super(
      isTimeout(cause) ? ConcordErrorCode.TIMEOUT : ConcordErrorCode.ILLEGAL_STATE,
      NatsErrorReason.PUBLISH_FAILED,
      `JetStream did not acknowledge message ${messageId} on ${subject}: ${describe(cause)}`,
      { cause },
    );
    this.name = 'NatsPublishError';
  }
}

/** A stream, consumer or coordination record could not be created or read. */
export class NatsTopologyError extends NatsBrokerError {
  constructor(message: string, cause?: unknown) {
    super(ConcordErrorCode.ILLEGAL_STATE, NatsErrorReason.TOPOLOGY_FAILED, cause === undefined ? message : `${message}: ${describe(cause)}`, {
      cause,
    });
    this.name = 'NatsTopologyError';
  }
}

export function isNatsBrokerError(error: unknown, reason?: NatsErrorReason): error is NatsBrokerError {
  return error instanceof NatsBrokerError && (reason === undefined || error.reason === reason);
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

function isTimeout(cause: unknown): boolean {
  return cause instanceof Error && (cause.name === 'TimeoutError' || /timeout/i.test(cause.message));
}
