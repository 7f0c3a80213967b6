import { InvalidArgumentError } from '../errors.js';

export interface ByValueRule<T, C extends string> {
  readonly when: (value: T) => boolean;
  readonly use: C;
}

/**
 * By value (seed 003): picks the countermeasure per request from its business risk, e.g. a
 * waiting semantic lock for large orders and none for small ones. The first rule that matches
 * wins; `otherwise` covers the rest. The choice belongs in the saga data or the command, so a
 * retry of the same request makes the same choice.
 */
export function byValue<T, C extends string>(
  rules: readonly ByValueRule<T, C>[],
  otherwise: C,
): (value: T) => C {
  if (!Array.isArray(rules)) throw new InvalidArgumentError('byValue: rules must be an array');
  return (value) => rules.find((rule) => rule.when(value))?.use ?? otherwise;
}
