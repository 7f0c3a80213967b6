import { InvalidArgumentError } from '../errors.js';
import { definitionVersion, upcastPayload, type MessageVersions } from '../message/message-versions.js';
import type { SchemaInput, SchemaOutput, StandardSchemaV1 } from '../schema.js';

const VERSIONS = Symbol.for('concord.replyVersions');

/** A reply schema that remembers its earlier versions: `replies: { Reserved: versionedReply(v2, upcastFrom<V1>().then(...)) }`. */
export type VersionedReplySchema<S extends StandardSchemaV1> = StandardSchemaV1<SchemaInput<S>, SchemaOutput<S>> & {
  readonly [VERSIONS]: MessageVersions;
};

/**
 * Declares earlier versions of one reply's body, as `versions` does for a message. The
 * participant writes the body's version into the reply; the orchestrator upcasts an older
 * body before its schema sees it.
 */
export function versionedReply<S extends StandardSchemaV1>(
  schema: S,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- version 1 may be any shape
  versions: MessageVersions<any, SchemaInput<S>>,
): VersionedReplySchema<S> {
  definitionVersion('reply', undefined, versions);
  if (!schema || typeof schema['~standard']?.validate !== 'function') {
    throw new InvalidArgumentError('versionedReply: schema must be a Standard Schema (zod, valibot, arktype...)');
  }
  // A wrapper, not the schema itself: zod schemas are shared and must not be changed.
  return { '~standard': schema['~standard'], [VERSIONS]: versions } as VersionedReplySchema<S>;
}

function versionsOf(schema: StandardSchemaV1 | undefined): MessageVersions | undefined {
  return (schema as Partial<VersionedReplySchema<StandardSchemaV1>> | undefined)?.[VERSIONS];
}

/** The version of a reply body written with this schema: 1 unless declared with `versionedReply`. */
export function replyVersionOf(schema: StandardSchemaV1 | undefined): number {
  return versionsOf(schema)?.current ?? 1;
}

/** A reply body newer than the orchestrator knows: the reply is retried and then parked, never applied blind. */
export class ReplyVersionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplyVersionError';
  }
}

/** Brings a reply body written at `bodyVersion` up to the schema's version; throws when it cannot. */
export function upcastReplyBody(what: string, schema: StandardSchemaV1, body: unknown, bodyVersion: number | undefined): unknown {
  const versions = versionsOf(schema);
  const result = upcastPayload({ type: what, schemaVersion: versions?.current ?? 1, ...(versions ? { versions } : {}) }, {
    schemaVersion: bodyVersion ?? 1,
    payload: body,
  });
  if (result.kind !== 'current') throw new ReplyVersionError(result.reason);
  return result.payload;
}
