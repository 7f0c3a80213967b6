import { ConcordAdapterError, ConcordErrorCode } from '@concord/core';

/** Reasons carried by this package's errors, stable like `code`: match on them, never on text. */
export const RedisErrorReason = {
  /** Redis refused a command or could not be reached; the operation may be retried. */
  COMMAND_FAILED: 'COMMAND_FAILED',
  /** Redis answered with something this package does not understand (a foreign key layout?). */
  UNEXPECTED_REPLY: 'UNEXPECTED_REPLY',
} as const;
export type RedisErrorReason = (typeof RedisErrorReason)[keyof typeof RedisErrorReason];

/** Base of this package's errors: a core `code` plus a Redis-specific `reason`. */
export class RedisError extends ConcordAdapterError<RedisErrorReason> {
  constructor(code: ConcordErrorCode, reason: RedisErrorReason, message: string, options?: { cause?: unknown }) {
    super(code, reason, message, options);
    this.name = 'RedisError';
  }
}

/** A command (or a pipeline of them) failed; `cause` holds the driver's error. */
export class RedisCommandError extends RedisError {
  constructor(
    readonly operation: string,
    cause: unknown,
  ) {
    super(ConcordErrorCode.UNAVAILABLE, RedisErrorReason.COMMAND_FAILED, `redis ${operation} failed: ${errorMessage(cause)}`, {
      cause,
    });
    this.name = 'RedisCommandError';
  }
}

export class RedisUnexpectedReplyError extends RedisError {
  constructor(what: string, reply: unknown) {
    super(ConcordErrorCode.UNDECODABLE_MESSAGE, RedisErrorReason.UNEXPECTED_REPLY, `unexpected reply for ${what}: ${safeJson(reply)}`);
    this.name = 'RedisUnexpectedReplyError';
  }
}

export function isRedisError(error: unknown, reason?: RedisErrorReason): error is RedisError {
  return error instanceof RedisError && (reason === undefined || error.reason === reason);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 200) ?? String(value);
  } catch {
    return String(value);
  }
}
