/**
 * JSON with object keys sorted at every level, so two bodies that mean the same thing
 * (`{"a":1,"b":2}` and `{"b":2,"a":1}`) give the same text.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * A short, stable fingerprint of a request: SHA-256 of its canonical JSON, in hex. Uses the
 * Web Crypto API (a global in Node 20, browsers, Deno and Bun), so core imports nothing.
 */
export async function requestFingerprint(request: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(canonicalJson(request));
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
