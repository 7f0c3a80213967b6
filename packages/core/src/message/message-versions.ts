import { InvalidArgumentError } from '../errors.js';
import type { SchemaOutput, StandardSchemaV1 } from '../schema.js';
import type { MessageEnvelope } from './envelope.js';

/** One upcaster: turns a payload of version n into one of version n + 1. */
export type Upcaster = (payload: unknown) => unknown;

/**
 * The versions a message has had, as a chain of upcasters from version 1 to the current one.
 * `First` is the payload of version 1 and `Last` the payload the newest upcaster returns, which
 * must fit the definition's current schema: a chain that does not line up does not compile.
 * The current version is `1 + upcasters.length`.
 */
export class MessageVersions<First = unknown, Last = unknown> {
  /** Type-only: what version 1 and the newest upcaster carry. */
  declare readonly __first: First;
  declare readonly __last: Last;

  private constructor(readonly upcasters: readonly Upcaster[]) {}

  /** Starts a chain at version 1, whose payload has type `P` (given, or inferred from a schema). */
  static from<P>(): MessageVersions<P, P>;
  static from<S extends StandardSchemaV1>(schemaOfVersion1: S): MessageVersions<SchemaOutput<S>, SchemaOutput<S>>;
  static from(): MessageVersions {
    return new MessageVersions([]);
  }

  /** Adds the next version: `upcast` turns the previous version's payload into this one's. */
  then<Next>(upcast: (payload: Last) => Next): MessageVersions<First, Next> {
    if (typeof upcast !== 'function') throw new InvalidArgumentError('an upcaster must be a function');
    return new MessageVersions<First, Next>([...this.upcasters, upcast as Upcaster]);
  }

  /** The version a payload written with the newest code carries. */
  get current(): number {
    return this.upcasters.length + 1;
  }
}

/** `versions: upcastFrom<V1>().then((v1) => v2).then((v2) => v3)` in a message definition. */
export function upcastFrom<P>(): MessageVersions<P, P>;
export function upcastFrom<S extends StandardSchemaV1>(schemaOfVersion1: S): MessageVersions<SchemaOutput<S>, SchemaOutput<S>>;
export function upcastFrom(): MessageVersions {
  return MessageVersions.from();
}

/** What a definition needs for upcasting; kept structural so commands and events share it. */
export interface VersionedDefinition {
  readonly type: string;
  readonly schemaVersion: number;
  readonly versions?: MessageVersions;
}

export type UpcastResult =
  | { readonly kind: 'current'; readonly payload: unknown }
  /** The payload is of a version this code does not know yet: park it, never drop it. */
  | { readonly kind: 'newer'; readonly reason: string }
  /** An upcaster threw: it will throw every time, so the message is parked at once too. */
  | { readonly kind: 'failed'; readonly reason: string };

/**
 * Brings a received payload up to the definition's current version, running the upcasters of
 * every version in between, in order. An envelope without a usable version counts as version 1
 * (the default every sender has written so far).
 */
export function upcastPayload(definition: VersionedDefinition, message: Pick<MessageEnvelope, 'schemaVersion' | 'payload'>): UpcastResult {
  const known = definition.schemaVersion;
  const raw = Number(message.schemaVersion);
  const version = Number.isInteger(raw) && raw >= 1 ? raw : 1;
  if (version > known) {
    return { kind: 'newer', reason: `schemaVersion ${version} is newer than this consumer knows (${known}) for ${definition.type}` };
  }
  let payload = message.payload;
  const upcasters = definition.versions?.upcasters ?? [];
  // Version v is turned into v + 1 by upcasters[v - 1].
  for (let v = version; v < known; v++) {
    const upcast = upcasters[v - 1];
    if (!upcast) continue;
    try {
      payload = upcast(payload);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      return { kind: 'failed', reason: `upcasting ${definition.type} from schemaVersion ${v} to ${v + 1} failed: ${why}` };
    }
  }
  return { kind: 'current', payload };
}

/** The definition's version from its options; refuses a `schemaVersion` that contradicts `versions`. */
export function definitionVersion(type: string, schemaVersion: number | undefined, versions: MessageVersions | undefined): number {
  if (versions !== undefined && !(versions instanceof MessageVersions)) {
    throw new InvalidArgumentError(`message ${type}: versions must be built with upcastFrom()`);
  }
  if (schemaVersion !== undefined && (!Number.isInteger(schemaVersion) || schemaVersion < 1)) {
    throw new InvalidArgumentError(`message ${type}: schemaVersion must be a positive integer, got ${schemaVersion}`);
  }
  if (versions && schemaVersion !== undefined && schemaVersion !== versions.current) {
    throw new InvalidArgumentError(
      `message ${type}: schemaVersion ${schemaVersion} contradicts its ${versions.upcasters.length} upcaster(s), which make it version ${versions.current}`,
    );
  }
  return versions?.current ?? schemaVersion ?? 1;
}
