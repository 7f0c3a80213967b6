import { ConcordError, type ConcordErrorCode } from '@concord/core';

/** Stable codes of the errors this package raises itself (core's codes cover the rest). */
export const RedisErrorCode = {
  /** Redis refused a command or could not be reached; the operation may be retried. */
  REDIS_COMMAND_FAILED: 'REDIS_COMMAND_FAILED',
  /** Redis answered with something this package does not understand (a foreign key layout?). */
  REDIS_UNEXPECTED_REPLY: 'REDIS_UNEXPECTED_REPLY',
} as const;
export type RedisErrorCode = (typeof RedisErrorCode)[keyof typeof RedisErrorCode];

/**
 * Base of this package's errors. Core's `ConcordErrorCode` has no broker-specific member yet,
 * so the code is widened here; match with `isRedisError(error, code)`.
 */
export class RedisError extends ConcordError {
  constructor(code: RedisErrorCode, message: string, options?: { cause?: unknown }) {
    super(code as unknown as ConcordErrorCode, message, options);
    this.name = 'RedisError';
  }
}

/** A command (or a pipeline of them) failed; `cause` holds the driver's error. */
export class RedisCommandError extends RedisError {
  constructor(
    readonly operation: string,
    cause: unknown,
  ) {
    super(RedisErrorCode.REDIS_COMMAND_FAILED, `redis ${operation} failed: ${errorMessage(cause)}`, {
      cause,
    });
    this.name = 'RedisCommandError';
  }
}

export class RedisUnexpectedReplyError extends RedisError {
  constructor(what: string, reply: unknown) {
    super(RedisErrorCode.REDIS_UNEXPECTED_REPLY, `unexpected reply for ${what}: ${safeJson(reply)}`);
    this.name = 'RedisUnexpectedReplyError';
  }
}

export function isRedisError(error: unknown, code?: RedisErrorCode): error is RedisError {
  return error instanceof RedisError && (code === undefined || (error.code as string) === code);
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
