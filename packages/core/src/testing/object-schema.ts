import type { StandardSchemaV1 } from '@standard-schema/spec';

/** A tiny Standard Schema for plain objects, so the suites need no validation library. */
export function objectSchema<T>(
  check: (v: Record<string, unknown>) => string | undefined = () => undefined,
): StandardSchemaV1<T> {
  return {
    '~standard': {
      version: 1,
      vendor: 'concord-testing',
      validate(value) {
        if (typeof value !== 'object' || value === null)
          return { issues: [{ message: 'expected an object' }] };
        const problem = check(value as Record<string, unknown>);
        return problem ? { issues: [{ message: problem }] } : { value: value as T };
      },
    },
  };
}
