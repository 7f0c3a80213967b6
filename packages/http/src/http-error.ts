import { ConcordError } from '@concord/core';

/** An error with the HTTP status and the stable code clients see in `{"error":{"code","message"}}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpError';
  }
}

interface ZodLikeError {
  readonly name: 'ZodError';
  readonly issues: ReadonlyArray<{ readonly path: ReadonlyArray<PropertyKey>; readonly message: string }>;
}

// Duck-typed rather than `instanceof ZodError`: the application's zod copy may not be ours.
function isZodError(error: unknown): error is ZodLikeError {
  return error instanceof Error && error.name === 'ZodError' && Array.isArray((error as Partial<ZodLikeError>).issues);
}

/** `field.path: message; …` for a zod validation error. */
export function zodMessage(error: ZodLikeError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message)).join('; ');
}

/** Maps anything thrown by a route to a status and a JSON error; a client's mistake is never a 500. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (isZodError(error)) return new HttpError(400, 'VALIDATION_FAILED', zodMessage(error));
  if (error instanceof URIError) return new HttpError(400, 'INVALID_PATH', 'the request path has bad percent-encoding');
  if (error instanceof ConcordError) {
    // A store that lost its connection during COMMIT cannot say whether the change happened
    // (e.g. @concord/postgres' CommitOutcomeUnknownError): the server's trouble, not a conflict
    // the client made, so 503 and a retry (idempotent, with the same key), never 409.
    if ((error as ConcordError & { reason?: string }).reason === 'COMMIT_OUTCOME_UNKNOWN') {
      return new HttpError(503, 'COMMIT_OUTCOME_UNKNOWN', `${error.message}; retry with the same Idempotency-Key`);
    }
    const httpCode = (error as ConcordError & { httpCode?: string }).httpCode;
    switch (error.code) {
      case 'IDEMPOTENCY_KEY_REUSED': return new HttpError(422, error.code, error.message);
      case 'NOT_FOUND':
        return new HttpError(404, 'NOT_FOUND', error.message);
      case 'ILLEGAL_STATE':
        return new HttpError(409, httpCode ?? 'CONFLICT', error.message);
      // Isolation countermeasures: another saga holds the resource, or it moved since it was read;
      // a manual action on a saga whose definition version this process does not have; a
      // reservation that cannot be held, or is no longer held.
      case 'RESOURCE_LOCKED':
      case 'STALE_VERSION':
      case 'BOUND_EXCEEDED':
      case 'SAGA_VERSION_NOT_REGISTERED':
      case 'RESERVATION_EXPIRED':
      case 'RESERVATION_CANCELLED':
      case 'RESERVATION_UNAVAILABLE':
        return new HttpError(409, httpCode ?? error.code, error.message);
      case 'INVALID_ARGUMENT':
      case 'INVALID_PAYLOAD':
        return new HttpError(400, httpCode ?? error.code, error.message);
      // A database or broker that cannot be reached now: the request may be retried later.
      case 'UNAVAILABLE':
      case 'TIMEOUT':
        return new HttpError(503, error.code, `${error.message}; retry later`);
    }
  }
  return new HttpError(500, 'INTERNAL', 'internal error; see the server log');
}

/** The JSON body of an error answer. */
export function errorBody(error: HttpError): { error: { code: string; message: string } } {
  return { error: { code: error.code, message: error.message } };
}
