import { InvalidArgumentError } from '../errors.js';
import { assertName, defineMessageOfKind, type MessageDefinition } from '../message/message-definition.js';
import type { MessageVersions } from '../message/message-versions.js';
import type { SchemaInput, SchemaOutput, StandardSchemaV1 } from '../schema.js';

export type ReplySchemas = Readonly<Record<string, StandardSchemaV1>>;

/**
 * A command one service sends another, and every reply it may answer with. Both services
 * import the same definition, so a wrong reply name or payload is a compile error.
 */
export interface CommandDefinition<
  TType extends string = string,
  S extends StandardSchemaV1 = StandardSchemaV1,
  R extends ReplySchemas = ReplySchemas,
> extends MessageDefinition<TType, S> {
  readonly kind: 'command';
  readonly replies: R;
  /** Builds the invocation of this command from saga data, for a saga step. */
  with<D>(build: (data: D) => SchemaInput<S>): CommandInvocation<D, CommandDefinition<TType, S, R>>;
}

export interface CommandInvocation<D, C extends CommandDefinition = CommandDefinition> {
  readonly command: C;
  readonly build: (data: D) => unknown;
}

/** What a participant's handler returns: one declared reply and its payload. */
export interface ReplyToken<R extends ReplySchemas = ReplySchemas, K extends keyof R & string = keyof R & string> {
  readonly reply: K;
  readonly payload: SchemaInput<R[K]>;
}

/** `reply.CreditReserved({...})`: one typed constructor per declared reply. */
export type ReplyBuilder<R extends ReplySchemas> = {
  readonly [K in keyof R & string]: (payload: SchemaInput<R[K]>) => ReplyToken<R, K>;
};

export type RepliesOf<C> = C extends CommandDefinition<string, StandardSchemaV1, infer R> ? R : never;
export type ReplyPayload<C, K extends string> = RepliesOf<C> extends infer R extends ReplySchemas
  ? K extends keyof R
    ? SchemaOutput<R[K]>
    : never
  : never;

export interface CommandDefinitionOptions<S extends StandardSchemaV1, R extends ReplySchemas> {
  readonly channel: string;
  readonly schema: S;
  readonly replies: R;
  readonly schemaVersion?: number;
  /** Earlier versions of the command's payload and their upcasters, as for events. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- version 1 may be any shape
  readonly versions?: MessageVersions<any, SchemaInput<S>>;
  /** Partition key from the payload; by default the saga id, so one saga's commands stay in order. */
  readonly partitionKey?: (payload: SchemaOutput<S>) => string;
}

export function defineCommand<TType extends string, S extends StandardSchemaV1, R extends ReplySchemas>(
  type: TType,
  options: CommandDefinitionOptions<S, R>,
): CommandDefinition<TType, S, R> {
  const names = Object.keys(options.replies ?? {});
  if (names.length === 0) throw new InvalidArgumentError(`command ${type}: declare at least one reply`);
  for (const name of names) assertName(`reply of ${type}`, name);
  const base = defineMessageOfKind('command', type, options);
  const definition: CommandDefinition<TType, S, R> = Object.freeze({
    ...base,
    kind: 'command' as const,
    replies: options.replies,
    with<D>(build: (data: D) => SchemaInput<S>) {
      return { command: definition, build } as CommandInvocation<D, CommandDefinition<TType, S, R>>;
    },
  });
  return definition;
}

export function replyBuilder<R extends ReplySchemas>(replies: R): ReplyBuilder<R> {
  const builder: Record<string, (payload: unknown) => ReplyToken> = {};
  for (const name of Object.keys(replies)) builder[name] = (payload) => ({ reply: name, payload }) as ReplyToken;
  return builder as ReplyBuilder<R>;
}
