import { InvalidArgumentError } from '../errors.js';
import type { SchemaInput, SchemaOutput, StandardSchemaV1 } from '../schema.js';
import { definitionVersion, type MessageVersions } from './message-versions.js';

export type MessageKind = 'event' | 'command' | 'reply' | 'message';

/**
 * A typed message: its type name, the channel it travels on, and the schema checked on send
 * and on receive. Both services import the same definition from a shared contracts module.
 */
export interface MessageDefinition<TType extends string = string, S extends StandardSchemaV1 = StandardSchemaV1> {
  readonly kind: MessageKind;
  readonly type: TType;
  readonly channel: string;
  readonly schema: S;
  /** The version this code writes and reads; older payloads are upcast to it on receive. */
  readonly schemaVersion: number;
  /** Upcasters from version 1 to `schemaVersion` (see message-versions.ts). */
  readonly versions?: MessageVersions;
  /** Derives the partition key from the payload when the sender does not give one. */
  // Method syntax on purpose: a definition for a specific payload must fit `MessageDefinition`.
  partitionKey?(payload: SchemaOutput<S>): string;
}

export type PayloadOf<D extends MessageDefinition> = SchemaOutput<D['schema']>;
export type PayloadInputOf<D extends MessageDefinition> = SchemaInput<D['schema']>;

export interface MessageDefinitionOptions<S extends StandardSchemaV1> {
  channel: string;
  schema: S;
  /** Without `versions`: the version number alone (a compatible change needs no upcaster). */
  schemaVersion?: number;
  /**
   * Earlier versions and how to upcast each to the next, ending at this schema's input:
   * `upcastFrom<V1>().then((v1) => v2)`. The definition's version is then 1 + the upcasters.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- version 1 may be any shape
  versions?: MessageVersions<any, SchemaInput<S>>;
  partitionKey?: (payload: SchemaOutput<S>) => string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

export function assertName(what: string, name: string): void {
  if (typeof name !== 'string' || !NAME.test(name) || name.length > 190) {
    throw new InvalidArgumentError(
      `${what} "${String(name)}" must be 1-190 characters of letters, digits, '.', '_', ':' or '-'`,
    );
  }
}

function define<TType extends string, S extends StandardSchemaV1>(
  kind: MessageKind,
  type: TType,
  options: MessageDefinitionOptions<S>,
): MessageDefinition<TType, S> {
  assertName('message type', type);
  assertName('channel', options.channel);
  if (!options.schema || typeof options.schema['~standard']?.validate !== 'function') {
    throw new InvalidArgumentError(`message ${type}: schema must be a Standard Schema (zod, valibot, arktype...)`);
  }
  return Object.freeze({
    kind,
    type,
    channel: options.channel,
    schema: options.schema,
    schemaVersion: definitionVersion(type, options.schemaVersion, options.versions),
    ...(options.versions ? { versions: options.versions } : {}),
    ...(options.partitionKey ? { partitionKey: options.partitionKey } : {}),
  });
}

/** A fact that happened, published to every interested subscriber of its channel. */
export function defineEvent<TType extends string, S extends StandardSchemaV1>(
  type: TType,
  options: MessageDefinitionOptions<S>,
): MessageDefinition<TType, S> {
  return define('event', type, options);
}

/** A plain message with no event or command semantics. */
export function defineMessage<TType extends string, S extends StandardSchemaV1>(
  type: TType,
  options: MessageDefinitionOptions<S>,
): MessageDefinition<TType, S> {
  return define('message', type, options);
}

export { define as defineMessageOfKind };
