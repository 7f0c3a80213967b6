/**
 * Stable error codes. Match on `code`, never on message text. Every error of every Concord
 * package carries one of these; an adapter adds its finer detail as a `reason` of its own.
 */
export const ConcordErrorCode = {
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  INVALID_PAYLOAD: 'INVALID_PAYLOAD',
  UNKNOWN_MESSAGE_TYPE: 'UNKNOWN_MESSAGE_TYPE',
  CONCURRENCY_CONFLICT: 'CONCURRENCY_CONFLICT',
  CLOSED: 'CLOSED',
  NOT_FOUND: 'NOT_FOUND',
  MIGRATION_FAILED: 'MIGRATION_FAILED',
  SAGA_DEFINITION_INVALID: 'SAGA_DEFINITION_INVALID',
  SAGA_VERSION_NOT_REGISTERED: 'SAGA_VERSION_NOT_REGISTERED',
  ILLEGAL_STATE: 'ILLEGAL_STATE',
  TIMEOUT: 'TIMEOUT',
  RESOURCE_LOCKED: 'RESOURCE_LOCKED',
  DEADLOCK: 'DEADLOCK',
  STALE_VERSION: 'STALE_VERSION',
  BOUND_EXCEEDED: 'BOUND_EXCEEDED',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  REMOTE_CALL_REJECTED: 'REMOTE_CALL_REJECTED',
  MESSAGE_REJECTED: 'MESSAGE_REJECTED',
  UNDECODABLE_MESSAGE: 'UNDECODABLE_MESSAGE',
  /** A reservation's TTL ran out before its confirm. */
  RESERVATION_EXPIRED: 'RESERVATION_EXPIRED',
  /** A reservation was cancelled (or its cancel came first, blocking the try). */
  RESERVATION_CANCELLED: 'RESERVATION_CANCELLED',
  /** Not enough quantity, or no such item free, in the pool. */
  RESERVATION_UNAVAILABLE: 'RESERVATION_UNAVAILABLE',
  /** A server (broker, cache) refused the operation or could not be reached; it may be retried. */
  UNAVAILABLE: 'UNAVAILABLE',
  /** A server could not listen: another process holds its address and port. */
  ADDRESS_IN_USE: 'ADDRESS_IN_USE',
} as const;
export type ConcordErrorCode = (typeof ConcordErrorCode)[keyof typeof ConcordErrorCode];

export class ConcordError extends Error {
  readonly code: ConcordErrorCode;
  constructor(code: ConcordErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConcordError';
    this.code = code;
  }
}

export interface PayloadIssue {
  readonly path: string;
  readonly message: string;
}

/** A payload that does not match its message definition's schema. */
export class InvalidPayloadError extends ConcordError {
  constructor(
    readonly messageType: string,
    readonly issues: readonly PayloadIssue[],
    readonly direction: 'send' | 'receive',
  ) {
    super(
      ConcordErrorCode.INVALID_PAYLOAD,
      `invalid payload for ${messageType} on ${direction}: ` +
        issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '),
    );
    this.name = 'InvalidPayloadError';
  }
}

export class InvalidArgumentError extends ConcordError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ConcordErrorCode.INVALID_ARGUMENT, message, options);
    this.name = 'InvalidArgumentError';
  }
}

/** Optimistic versioning found the row changed under us; the caller retries with fresh state. */
export class ConcurrencyConflictError extends ConcordError {
  constructor(message: string) {
    super(ConcordErrorCode.CONCURRENCY_CONFLICT, message);
    this.name = 'ConcurrencyConflictError';
  }
}

export class NotFoundError extends ConcordError {
  constructor(what: string, id: string | number) {
    super(ConcordErrorCode.NOT_FOUND, `${what} ${id} not found`);
    this.name = 'NotFoundError';
  }
}

export class ClosedError extends ConcordError {
  constructor(what: string) {
    super(ConcordErrorCode.CLOSED, `${what} is closed`);
    this.name = 'ClosedError';
  }
}

export class IllegalStateError extends ConcordError {
  constructor(message: string) {
    super(ConcordErrorCode.ILLEGAL_STATE, message);
    this.name = 'IllegalStateError';
  }
}

export function isConcordError(error: unknown, code?: ConcordErrorCode): error is ConcordError {
  return error instanceof ConcordError && (code === undefined || error.code === code);
}

/**
 * A person's action (retry, resolve, abort) on a saga in a state where it does not apply.
 * Code ILLEGAL_STATE, so HTTP layers answer 409.
 */
export class SagaActionNotAllowedError extends IllegalStateError {
  constructor(
    readonly sagaId: string,
    readonly status: string,
    readonly action: 'retry' | 'resolve' | 'abort',
  ) {
    super(
      `saga ${sagaId} is ${status}: ${action} applies only to a STUCK saga` +
        (status === 'RUNNING' || status === 'COMPENSATING' ? ' (this one is still moving on its own)' : ''),
    );
    this.name = 'SagaActionNotAllowedError';
  }
}

/**
 * The broker refuses this message and always will (over its size limit, say). Brokers throw it
 * before publishing anything of the call; the relay parks the message and the rest flows.
 */
export class MessageRejectedError extends ConcordError {
  constructor(
    readonly messageId: string,
    reason: string,
  ) {
    super(ConcordErrorCode.MESSAGE_REJECTED, `the broker refuses message ${messageId}: ${reason}`);
    this.name = 'MessageRejectedError';
  }
}

/** A stored message row that cannot be read back as an envelope (corrupt JSON, a bad field). */
export class UndecodableMessageError extends ConcordError {
  constructor(what: string, options?: { cause?: unknown }) {
    super(ConcordErrorCode.UNDECODABLE_MESSAGE, `cannot decode ${what}`, options);
    this.name = 'UndecodableMessageError';
  }
}

/** A rebuild of this consumer group is already running (on this or another instance): one at a time. */
export class RebuildInProgressError extends IllegalStateError {
  constructor(readonly group: string) {
    super(`a rebuild of consumer group ${group} is already running; try again when it has finished`);
    this.name = 'RebuildInProgressError';
  }
}

/**
 * Base of an adapter package's errors: a core `code` (what callers, retries and HTTP layers
 * match on) plus the package's own stable `reason` for the detail only it knows.
 */
export class ConcordAdapterError<R extends string = string> extends ConcordError {
  constructor(
    code: ConcordErrorCode,
    readonly reason: R,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'ConcordAdapterError';
  }
}
