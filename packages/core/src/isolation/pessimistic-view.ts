import { SagaDefinitionError, type StepKind } from '../saga/saga-definition.js';

/** What the check reads of a built saga (any saga has it, whatever its data, failures and transaction). */
interface SagaSteps {
  readonly name: string;
  readonly steps: ReadonlyArray<{ readonly name: string; readonly kind: StepKind; readonly index: number }>;
}

/**
 * Pessimistic view (seed 003): a step that *gives back* something other sagas read (credit,
 * stock, a seat) must come last and must never be undone, or another saga can read the value
 * it gave and then lose it to the compensation (a dirty read). This check makes that ordering
 * part of the definition: each named step must be retriable (after the pivot, never
 * compensated) and come after every compensatable step. Returns the definition unchanged.
 */
export function pessimisticView<S extends SagaSteps>(definition: S, options: { readonly releases: readonly string[] }): S {
  const problems: string[] = [];
  const lastCompensatable = definition.steps.reduce((last, s, i) => (s.kind !== 'retriable' ? i : last), -1);
  for (const name of options.releases) {
    const step = definition.steps.find((s) => s.name === name);
    if (!step) {
      problems.push(`pessimistic view: no step "${name}"`);
      continue;
    }
    if (step.kind !== 'retriable' || step.index < lastCompensatable) {
      problems.push(
        `pessimistic view: step "${name}" gives a value back, so it must be retriable and come after every step that can fail or be undone ` +
          `(it is ${step.kind}, step ${step.index + 1} of ${definition.steps.length})`,
      );
    }
  }
  if (problems.length > 0) throw new SagaDefinitionError(definition.name, problems);
  return definition;
}
