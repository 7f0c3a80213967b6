import type { Logger } from '@concord/core';
import { errorMessage } from './rabbit-errors.js';

export interface RetryOptions {
  /** What is being tried, for the log. */
  readonly what: string;
  /** Give up (rethrowing the last error) once this much time has passed. */
  readonly withinMs: number;
  /** Errors that no retry can fix, rethrown at once. */
  readonly isFatal?: (error: unknown) => boolean;
  readonly signal?: AbortSignal;
  readonly logger: Logger;
}

/**
 * Retries an operation that can meet RabbitMQ objects still being born: a stream another
 * instance declared a moment ago answers "no replica on the local node", and a declaration
 * racing another one can close its channel. Both pass within milliseconds.
 */
export async function retrying<T>(op: () => Promise<T>, options: RetryOptions): Promise<T> {
  const deadline = Date.now() + options.withinMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (error) {
      if (options.isFatal?.(error) || options.signal?.aborted || Date.now() + delayFor(attempt) > deadline) throw error;
      options.logger.debug({ err: errorMessage(error), attempt }, `${options.what} failed; retrying`);
      await sleep(delayFor(attempt), options.signal);
      if (options.signal?.aborted) throw error;
    }
  }
}

function delayFor(attempt: number): number {
  return Math.min(1_000, 25 * 2 ** attempt);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** RabbitMQ's NOT_FOUND: the queue was deleted; no retry brings it back. */
export function isNotFound(error: unknown): boolean {
  return /NOT[_-]FOUND/.test(errorMessage(error));
}
