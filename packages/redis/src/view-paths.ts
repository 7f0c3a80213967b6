import { InvalidArgumentError } from '@concord/core';

/** What `set` accepts: any part of the view, nested objects down to the fields it changes. */
export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function assertPathSegment(segment: string): void {
  if (segment.length === 0 || segment.includes('.') || FORBIDDEN.has(segment)) {
    throw new InvalidArgumentError(
      `view field name "${segment}" must be non-empty, without '.', and not ${[...FORBIDDEN].join('/')}`,
    );
  }
}

export function assertPath(path: string): void {
  for (const segment of path.split('.')) assertPathSegment(segment);
}

/**
 * Nested plain objects → `a.b.c` leaf paths with JSON values. Arrays, null and primitives are
 * leaves; an empty object is kept as a leaf too, so `orders: {}` reads back as `{}`.
 */
export function flatten(
  value: Record<string, unknown>,
  into: Array<[string, string]> = [],
  prefix = '',
): Array<[string, string]> {
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    assertPathSegment(key);
    const path = prefix + key;
    if (isPlainObject(v) && Object.keys(v).length > 0) flatten(v, into, `${path}.`);
    else into.push([path, JSON.stringify(v)]);
  }
  return into;
}

/** The inverse of `flatten`, whatever order the fields come in. */
export function unflatten(fields: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  // Shorter paths first: an empty-object leaf then never overwrites its own children.
  const sorted = [...fields].sort(([a], [b]) => a.split('.').length - b.split('.').length);
  for (const [path, raw] of sorted) {
    const segments = path.split('.');
    if (segments.some((s) => FORBIDDEN.has(s))) continue;
    let node = root;
    for (const segment of segments.slice(0, -1)) {
      const next = node[segment];
      if (!isPlainObject(next)) node[segment] = {};
      node = node[segment] as Record<string, unknown>;
    }
    const last = segments[segments.length - 1]!;
    const value = JSON.parse(String(raw)) as unknown;
    if (isPlainObject(value) && isPlainObject(node[last])) continue;
    node[last] = value;
  }
  return root;
}
