/** Stable error codes. Match on `code`, never on message text. */
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
