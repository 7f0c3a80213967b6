import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.js';

/** 1 MiB: far above any JSON command the examples take, far below what hurts a process. */
export const DEFAULT_MAX_BODY_BYTES = 1 << 20;

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** True when the request carries (or announces) a body. */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * Refuses, before anything reads it, a body that is not JSON (415: a cross-site form or
 * `text/plain` POST is never parsed) or whose announced length is over the limit (413).
 */
export function checkBodyHeaders(req: IncomingMessage, maxBytes: number): void {
  const type = req.headers['content-type'];
  if (type !== undefined ? !JSON_TYPE.test(type) : hasBody(req)) {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `request bodies must be application/json, got ${type === undefined ? 'no content-type' : `"${type.slice(0, 100)}"`}`);
  }
  const length = Number(req.headers['content-length'] ?? 0);
  if (length > maxBytes) throw tooLarge(maxBytes);
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, 'BODY_TOO_LARGE', `request body is over ${maxBytes} bytes`);
}

/** Reads a body of at most `maxBytes` into memory (413 above, before buffering the excess). */
export function readBoundedBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      // Stop buffering; the error answer closes the connection, which discards the rest.
      req.off('data', onData);
      req.pause();
      reject(tooLarge(maxBytes));
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', (error) => reject(new HttpError(400, 'BAD_REQUEST', `request body could not be read: ${error.message}`)));
    req.once('aborted', () => reject(new HttpError(400, 'BAD_REQUEST', 'the client aborted the request')));
  });
}

/** Reads and parses a JSON body of at most `maxBytes`; undefined for an empty one. */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const text = (await readBoundedBody(req, maxBytes)).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'INVALID_JSON', `request body is not valid JSON: ${(error as Error).message}`);
  }
}
