import { InvalidArgumentError } from '../errors.js';
import type { StepKind } from './saga-definition.js';

/** What a step's shape is made of (any step definition has it, whatever its data and handlers). */
interface StepShape {
  readonly name: string;
  readonly kind: StepKind;
  readonly invoke?: { readonly command: { readonly type: string } };
  readonly compensate?: { readonly invoke?: { readonly command: { readonly type: string } } };
  readonly branches?: readonly StepShape[];
}

/**
 * What identifies the shape of a saga definition: each step's name, kind, what it does (the
 * command type it invokes, or "local") and how it is compensated, branches included, in order.
 * Handlers are code and cannot be compared, so they are not part of it: a change inside a
 * handler keeps the fingerprint; give an explicit `version` when that matters.
 */
export function stepsShape(steps: readonly StepShape[]): string {
  const compensation = (c: StepShape['compensate']) =>
    !c ? '-' : c.invoke ? `invoke:${c.invoke.command.type}` : 'local';
  const step = (s: StepShape): string => {
    if (s.branches) return `${s.name}|group(${s.branches.map(step).join(',')})`;
    const does = s.invoke ? `invoke:${s.invoke.command.type}` : 'local';
    return `${s.name}|${s.kind}|${does}|${compensation(s.compensate)}`;
  };
  return steps.map(step).join(';');
}

/**
 * A stable 53-bit hash (cyrb53) of the steps' shape, written `fp-` and 14 hex digits. Core runs
 * in any JavaScript runtime, so it does not use node:crypto; collisions only need to be
 * unlikely between the few versions one saga type ever has.
 */
export function stepsFingerprint(steps: readonly StepShape[]): string {
  const text = stepsShape(steps);
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  const hash = 4294967296 * (2097151 & h2) + (h1 >>> 0);
  return `fp-${hash.toString(16).padStart(14, '0')}`;
}

/** An explicit version: a positive integer or a short name ("2", "2026-11-rollout"). */
export function normalizeSagaVersion(sagaName: string, version: string | number): string {
  const text = typeof version === 'number' ? String(version) : version;
  const ok =
    typeof version === 'number'
      ? Number.isInteger(version) && version > 0
      : typeof version === 'string' && /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/.test(version) && !version.startsWith('fp-');
  if (!ok) {
    throw new InvalidArgumentError(
      `saga ${sagaName}: version must be a positive integer or 1-64 letters, digits, ".", "_", ":", "-" (not starting with "fp-"), got ${JSON.stringify(version)}`,
    );
  }
  return text;
}
