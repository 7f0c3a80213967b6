import { ConcordError } from '@concord/core';
import { ZodError } from 'zod';

/** An error with the HTTP status and the stable code clients see in `{"error":{"code","message"}}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function zodMessage(error: ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

/** Maps anything thrown by a route to a status and a JSON error; a client's mistake is never a 500. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof ZodError) return new HttpError(400, 'VALIDATION_FAILED', zodMessage(error));
  if (error instanceof ConcordError) {
    const httpCode = (error as ConcordError & { httpCode?: string }).httpCode;
    switch (error.code) {
      case 'IDEMPOTENCY_KEY_REUSED': return new HttpError(422, error.code, error.message);
      case 'NOT_FOUND':
        return new HttpError(404, 'NOT_FOUND', error.message);
      case 'ILLEGAL_STATE':
        return new HttpError(409, httpCode ?? 'CONFLICT', error.message);
      case 'INVALID_ARGUMENT':
      case 'INVALID_PAYLOAD':
        return new HttpError(400, httpCode ?? error.code, error.message);
    }
  }
  return new HttpError(500, 'INTERNAL', 'internal error; see the server log');
}
