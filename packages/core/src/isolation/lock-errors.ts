import { ConcordError, ConcordErrorCode } from '../errors.js';

/**
 * Another saga holds the resource and the command chose to fail fast. A saga participant
 * turns it into the `concord.ResourceLocked` reply (the saga fails with RESOURCE_LOCKED); an
 * HTTP handler answers 409.
 */
export class ResourceLockedError extends ConcordError {
  readonly status = 409;
  constructor(
    readonly resource: string,
    readonly heldBy: string,
  ) {
    super(ConcordErrorCode.RESOURCE_LOCKED, `${resource} is locked by saga ${heldBy}`);
    this.name = 'ResourceLockedError';
  }
}

/**
 * Another saga holds the resource and the command chose to wait. Thrown out of the handler so
 * its partial effects roll back; the participant parks the command in the lock's wait queue.
 */
export class LockWaitRequired extends ConcordError {
  constructor(
    readonly resource: string,
    readonly heldBy: string,
  ) {
    super(
      ConcordErrorCode.RESOURCE_LOCKED,
      `${resource} is locked by saga ${heldBy}: the command waits for it`,
    );
    this.name = 'LockWaitRequired';
  }
}

export function isResourceLockedError(error: unknown): error is ResourceLockedError {
  return error instanceof ResourceLockedError;
}
