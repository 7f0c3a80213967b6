import type { ServerResponse } from 'node:http';
import { HttpError } from './http-error.js';

/** Writes `value` as a JSON answer with `status`. */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A positive integer path id, or 400 INVALID_ID naming the parameter. */
export function intParam(params: Readonly<Record<string, string>>, name: string): number {
  const raw = params[name] ?? '';
  const value = Number(raw);
  if (!/^\d{1,15}$/.test(raw) || !Number.isSafeInteger(value) || value <= 0) {
    throw new HttpError(400, 'INVALID_ID', `${name} must be a positive integer, got "${raw.slice(0, 100)}"`);
  }
  return value;
}

/** The `Idempotency-Key` header: undefined when absent, 400 when not 1-190 printable ASCII characters. */
export function idempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const key = Array.isArray(header) ? header[0]! : header;
  if (key.length === 0 || key.length > 190 || !/^[\x21-\x7e]+$/.test(key)) {
    throw new HttpError(400, 'INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key must be 1-190 printable ASCII characters without spaces');
  }
  return key;
}
