import type { StandardSchemaV1 } from '@standard-schema/spec';
import { InvalidPayloadError, type PayloadIssue } from './errors.js';

export type { StandardSchemaV1 };
export type SchemaInput<S extends StandardSchemaV1> = StandardSchemaV1.InferInput<S>;
export type SchemaOutput<S extends StandardSchemaV1> = StandardSchemaV1.InferOutput<S>;

function toIssues(issues: ReadonlyArray<StandardSchemaV1.Issue>): PayloadIssue[] {
  return issues.map((issue) => ({
    path: (issue.path ?? [])
      .map((p) => (typeof p === 'object' && p !== null && 'key' in p ? String(p.key) : String(p)))
      .join('.'),
    message: issue.message,
  }));
}

/**
 * Validates with any Standard Schema (zod, valibot, arktype...). Sync schemas stay sync in
 * effect; an async schema is awaited.
 */
export async function validatePayload<S extends StandardSchemaV1>(
  schema: S,
  value: unknown,
  messageType: string,
  direction: 'send' | 'receive',
): Promise<SchemaOutput<S>> {
  let result = schema['~standard'].validate(value);
  if (result instanceof Promise) result = await result;
  if (result.issues) throw new InvalidPayloadError(messageType, toIssues(result.issues), direction);
  return result.value as SchemaOutput<S>;
}
