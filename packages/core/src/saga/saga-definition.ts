import { ConcordError, ConcordErrorCode, InvalidArgumentError } from '../errors.js';
import { assertName } from '../message/message-definition.js';
import type { Transaction } from '../ports/store.js';
import type { SchemaInput, SchemaOutput, StandardSchemaV1 } from '../schema.js';
import type { CommandDefinition, CommandInvocation, RepliesOf } from './command-definition.js';
import { buildGroup, StepGroupBuilder, type GroupInput } from './step-group.js';
import { normalizeSagaVersion, stepsFingerprint } from './saga-definition-version.js';
import { checkFailReasons, type FailAction, type OkAction, type SagaFailureReason } from './saga-failure.js';

/**
 * compensatable: can be undone; pivot: the go/no-go step, never undone; retriable: after the
 * pivot, cannot fail for business reasons, so it is retried until it succeeds.
 */
export type StepKind = 'compensatable' | 'pivot' | 'retriable';

/** What a step handler gets when the saga names no transaction type: the portable part of any store's. */
export type AnyTransaction = Transaction<unknown>;

/** Success, with the saga's data updated from the reply (return nothing to keep it). */
export type ReplyHandler<D, P, T extends AnyTransaction = AnyTransaction> = (tx: T, data: D, reply: P) => D | void | Promise<D | void>;
export type ReplyAction<D, P, F extends string = string, T extends AnyTransaction = AnyTransaction> =
  | OkAction
  | FailAction<F>
  | ReplyHandler<D, P, T>;

/**
 * What each reply of the command means, one entry per declared reply: `ok()`, `fail(reason)`
 * (one of the saga's failures) or a handler. Leaving one out is a compile error, so a reply
 * added to a command's contract reaches every saga that sends it.
 */
export type OnReply<D, C, F extends string = string, T extends AnyTransaction = AnyTransaction> = {
  readonly [K in keyof RepliesOf<C> & string]-?: ReplyAction<D, SchemaOutput<RepliesOf<C>[K]>, F, T>;
};

export type LocalAction<D, T extends AnyTransaction = AnyTransaction> = (tx: T, data: D) => D | void | Promise<D | void>;
/** Undoes a local step; `reason` is why the saga turned back (`R`: its `SagaFailureReason`). */
export type LocalCompensation<D, R extends string = string, T extends AnyTransaction = AnyTransaction> = (
  tx: T,
  data: D,
  reason: R,
) => void | Promise<void>;

export type Compensation<D, F extends string = string, T extends AnyTransaction = AnyTransaction> =
  | { readonly local: LocalCompensation<D, SagaFailureReason<F>, T>; readonly invoke?: never }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a compensation may send any command
  | { readonly invoke: CommandInvocation<D, any>; readonly local?: never; readonly timeoutMs?: number };

export interface InvokeStepInput<D, C extends CommandDefinition, F extends string = string, T extends AnyTransaction = AnyTransaction> {
  readonly kind?: StepKind;
  readonly invoke: CommandInvocation<D, C>;
  readonly onReply: OnReply<D, C, F, T>;
  readonly compensate?: Compensation<D, F, T>;
  /** Without a reply by then, a compensatable or pivot step fails with TIMEOUT; a retriable one is re-sent. */
  readonly timeoutMs?: number;
}

export interface LocalStepInput<D, F extends string = string, T extends AnyTransaction = AnyTransaction> {
  readonly kind?: StepKind;
  readonly local: LocalAction<D, T>;
  readonly compensate?: Compensation<D, F, T>;
}

/**
 * A compensation as a built step keeps it. Its reason was typed where it was written
 * (`Compensation`); kept, it takes the recorded reason. This keeps a definition's type
 * covariant in its failures, so any saga fits `SagaDefinition<D>` and `AnySagaDefinition`.
 */
export type StepCompensation<D, T extends AnyTransaction = AnyTransaction> =
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
  | { readonly local: (tx: T, data: D, reason: any) => void | Promise<void>; readonly invoke?: never }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a compensation may send any command
  | { readonly invoke: CommandInvocation<D, any>; readonly local?: never; readonly timeoutMs?: number };

/** A validated step, as the orchestrator runs it. */
export interface StepDefinition<D, F extends string = string, T extends AnyTransaction = AnyTransaction> {
  readonly name: string;
  readonly index: number;
  readonly kind: StepKind;
  readonly local?: LocalAction<D, T>;
  readonly invoke?: CommandInvocation<D, CommandDefinition>;
  readonly onReply?: Readonly<Record<string, ReplyAction<D, unknown, F, T>>>;
  readonly compensate?: StepCompensation<D, T>;
  readonly timeoutMs?: number;
  /** A parallel step group: its branches run at once and join (see step-group.ts). */
  readonly branches?: readonly StepDefinition<D, F, T>[];
}

/**
 * A built saga. Its type carries what the compiler checks elsewhere: the name (`N`, what
 * `orchestrator.begin` takes), the data (`D`) and what starting it takes (`I`, the schema's
 * input), the declared failure reasons (`F`) and the transaction its steps run in (`T`).
 */
export interface SagaDefinition<
  D = unknown,
  F extends string = string,
  T extends AnyTransaction = AnyTransaction,
  N extends string = string,
  I = D,
> {
  readonly name: N;
  readonly schema: StandardSchemaV1<I, D>;
  readonly steps: readonly StepDefinition<D, F, T>[];
  /** The business reasons its steps may fail with (`fail(reason)`), as declared. */
  readonly failures: readonly F[];
  /**
   * Recorded by each instance when it starts, which then finishes on this version: the explicit
   * `version` given to defineSaga, or a fingerprint of the steps (`fp-…`, see saga-definition-version.ts).
   */
  readonly version: string;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- only the transaction is checked; data and reasons may be anything */
/** Any built saga, whatever its data, failures and transaction (what the orchestrator's registry holds). */
export type AnySagaDefinition = SagaDefinition<any, any, any, string, any>;

type HandlerIn<H> = (tx: Transaction<H>, ...rest: any[]) => unknown;
interface StepFor<H> {
  readonly local?: HandlerIn<H>;
  readonly onReply?: Readonly<Record<string, OkAction | FailAction | HandlerIn<H>>>;
  readonly compensate?: { readonly local?: HandlerIn<H> };
  readonly branches?: readonly StepFor<H>[];
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * A built saga whose steps can run in a `Transaction<H>`: what an orchestrator on a store of
 * handle `H` accepts. A saga on `Transaction<unknown>` runs on every store; one on
 * `SqliteTransaction` only on a SQLite store.
 */
export interface SagaDefinitionFor<H> {
  readonly name: string;
  readonly schema: StandardSchemaV1;
  readonly steps: readonly StepFor<H>[];
  readonly failures: readonly string[];
  readonly version: string;
}

/** The sagas among `S` named `N` (all of them when their names are not known as literals). */
export type SagaNamed<S, N extends string> = S extends { readonly name: infer SN extends string }
  ? string extends SN
    ? S
    : N extends SN
      ? S
      : never
  : never;
/** What starting the saga named `N` among the sagas `S` takes: its schema's input (`unknown` when `S` is not known). */
export type SagaInputOf<S, N extends string> =
  SagaNamed<S, N> extends SagaDefinition<infer _D, infer _F, infer _T, infer _N, infer I> ? I : unknown;

export interface SagaDefinitionOptions<F extends string = string> {
  /** Name this definition's version yourself; without it, a fingerprint of the steps is used. */
  readonly version?: string | number;
  /**
   * The business reasons the saga may fail with: every `fail(reason)` of its steps names one
   * (a compile error otherwise), and compensations see them as a union type. Also list the
   * UPPER_SNAKE `code` of an error a local step throws on purpose: it is recorded as the reason.
   */
  readonly failures?: readonly F[];
}

export class SagaDefinitionError extends ConcordError {
  constructor(
    readonly sagaName: string,
    readonly problems: readonly string[],
  ) {
    super(ConcordErrorCode.SAGA_DEFINITION_INVALID, `saga ${sagaName} is invalid: ${problems.join('; ')}`);
    this.name = 'SagaDefinitionError';
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any -- a step may invoke any command */
type StepInput<D, F extends string, T extends AnyTransaction> =
  | InvokeStepInput<D, any, F, T>
  | LocalStepInput<D, F, T>
  | GroupInput<D, F, T>;

/**
 * Collects a saga's steps; `build()` validates them. Every callback is typed from here: the
 * data `D` (from the schema), the declared failures `F`, the transaction `T`.
 */
export class SagaBuilder<N extends string, D, F extends string, T extends AnyTransaction = AnyTransaction, I = D> {
  private readonly steps: Array<{ name: string; input: StepInput<D, F, T> }> = [];

  constructor(
    private readonly name: N,
    private readonly schema: StandardSchemaV1<I, D>,
    private readonly failures: readonly F[],
    private readonly version?: string,
  ) {}

  /**
   * Names the transaction the steps run in, so handlers get the store's own type
   * (`SqliteTransaction`, `PostgresTransaction`, `MysqlTransaction`: `tx.handle` is the
   * driver's). The orchestrator then accepts the saga only with a store of that handle.
   * Without it, handlers get `Transaction<unknown>` and the saga runs on any store.
   */
  transactionType<T2 extends AnyTransaction>(): SagaBuilder<N, D, F, T2, I> {
    if (this.steps.length > 0) throw new InvalidArgumentError(`saga ${this.name}: name the transaction type before the first step`);
    return new SagaBuilder<N, D, F, T2, I>(this.name, this.schema, this.failures, this.version);
  }

  step<C extends CommandDefinition>(name: string, step: InvokeStepInput<D, C, F, T>): this;
  step(name: string, step: LocalStepInput<D, F, T>): this;
  step(name: string, step: InvokeStepInput<D, any, F, T> | LocalStepInput<D, F, T>): this {
    this.steps.push({ name, input: step });
    return this;
  }

  /**
   * A step group: its branches run at once and the saga goes on when all succeeded. When one
   * fails, the branches that succeeded are compensated (and the steps before the group).
   * Branches are compensatable, so a group comes before the pivot.
   */
  parallel(
    name: string,
    branches: (group: StepGroupBuilder<D, F, T>) => StepGroupBuilder<D, F, T>,
    options: { timeoutMs?: number } = {},
  ): this {
    const group = branches(new StepGroupBuilder<D, F, T>());
    this.steps.push({ name, input: { group: group.entries, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) } });
    return this;
  }

  /** Validates the whole definition; throws `SagaDefinitionError` listing every problem. */
  build(): SagaDefinition<D, F, T, N, I> {
    const problems: string[] = [];
    const seen = new Set<string>();
    let pivotAt = -1;
    let firstRetriable = -1;
    const steps = this.steps.map(({ name, input }, index): StepDefinition<D, F, T> => {
      const where = `step ${index + 1} "${name}"`;
      try {
        assertName('step name', name);
      } catch (error) {
        problems.push(`${where}: ${(error as Error).message}`);
      }
      if (seen.has(name)) problems.push(`${where}: the name is used twice`);
      seen.add(name);
      const kind = ('kind' in input ? input.kind : undefined) ?? 'compensatable';
      if (!['compensatable', 'pivot', 'retriable'].includes(kind)) problems.push(`${where}: unknown kind "${kind}"`);
      if ('group' in input) {
        const group = buildGroup(name, where, input, this.failures, problems);
        if (kind === 'compensatable' && pivotAt >= 0) problems.push(`${where}: steps after the pivot must be retriable`);
        else if (firstRetriable >= 0) problems.push(`${where}: steps after a retriable step must be retriable`);
        return Object.freeze({ name, index, kind: 'compensatable' as const, ...group });
      }
      const body = buildStepBody(where, input, this.failures, problems);
      if (kind === 'pivot') {
        if (pivotAt >= 0) problems.push(`${where}: a saga has at most one pivot (step ${pivotAt + 1} is one already)`);
        pivotAt = index;
        if (input.compensate) problems.push(`${where}: a pivot step has no compensation`);
        if (firstRetriable >= 0) problems.push(`${where}: the pivot must come before every retriable step`);
      }
      if (kind === 'retriable') {
        if (firstRetriable < 0) firstRetriable = index;
        if (input.compensate) problems.push(`${where}: a retriable step has no compensation (it never fails for good)`);
      } else if (pivotAt >= 0 && pivotAt < index) {
        problems.push(`${where}: steps after the pivot must be retriable`);
      } else if (firstRetriable >= 0) {
        problems.push(`${where}: steps after a retriable step must be retriable`);
      }
      return Object.freeze({ name, index, kind, ...body });
    });
    if (steps.length === 0) problems.push('a saga needs at least one step');
    if (problems.length > 0) throw new SagaDefinitionError(this.name, problems);
    const version = this.version ?? stepsFingerprint(steps);
    return Object.freeze({ name: this.name, schema: this.schema, steps: Object.freeze(steps), failures: this.failures, version });
  }
}

/** Checks and collects what a step or a branch does: local or invoke, onReply, compensate, timeout. */
export function buildStepBody<D, F extends string, T extends AnyTransaction>(
  where: string,
  input: InvokeStepInput<D, any, F, T> | LocalStepInput<D, F, T>,
  failures: readonly string[],
  problems: string[],
): Pick<StepDefinition<D, F, T>, 'local' | 'invoke' | 'onReply' | 'compensate' | 'timeoutMs'> {
  const local = 'local' in input ? input.local : undefined;
  const invoke = 'invoke' in input ? input.invoke : undefined;
  if (!local === !invoke) problems.push(`${where}: give exactly one of local or invoke`);
  if (invoke && (typeof invoke.build !== 'function' || invoke.command?.kind !== 'command')) {
    problems.push(`${where}: invoke must be Command.with((data) => payload)`);
  }
  const onReply = 'onReply' in input ? (input.onReply as StepDefinition<D, F, T>['onReply']) : undefined;
  if (onReply && !invoke) problems.push(`${where}: onReply needs an invoke`);
  if (invoke?.command?.replies) checkOnReply(where, invoke.command, onReply ?? {}, problems);
  if (onReply) checkFailReasons(where, onReply, failures, problems);
  const compensate = input.compensate;
  if (compensate && !compensate.local === !compensate.invoke) {
    problems.push(`${where}: compensate needs exactly one of local or invoke`);
  }
  const timeoutMs = 'timeoutMs' in input ? input.timeoutMs : undefined;
  if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs <= 0)) {
    problems.push(`${where}: timeoutMs must be a positive integer`);
  }
  return {
    ...(local ? { local } : {}),
    ...(invoke ? { invoke } : {}),
    ...(onReply ? { onReply } : {}),
    ...(compensate ? { compensate } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Every declared reply mapped to ok(), fail(reason) or a handler, and nothing else. */
function checkOnReply(where: string, command: CommandDefinition, onReply: Record<string, unknown>, problems: string[]): void {
  const declared = Object.keys(command.replies);
  for (const reply of Object.keys(onReply)) {
    if (!declared.includes(reply)) problems.push(`${where}: ${command.type} has no reply "${reply}" (declared: ${declared.join(', ')})`);
  }
  const missing = declared.filter((reply) => !(reply in onReply));
  if (missing.length > 0) {
    problems.push(`${where}: onReply must say what each reply of ${command.type} means (ok(), fail(reason) or a handler); missing: ${missing.join(', ')}`);
  }
  for (const [reply, action] of Object.entries(onReply)) {
    const kind = (action as { kind?: unknown } | null)?.kind;
    if (typeof action !== 'function' && kind !== 'ok' && kind !== 'fail') {
      problems.push(`${where}: onReply.${reply} must be ok(), fail(reason) or a handler`);
    }
  }
}

/**
 * Starts a saga definition:
 * `defineSaga('CreateOrder', schema, { failures: ['REFUSED'] }).step(...).step(...).build()`.
 * The data type comes from the schema: no callback needs it written out.
 */
export function defineSaga<const N extends string, S extends StandardSchemaV1, const F extends string = never>(
  name: N,
  schema: S,
  options: SagaDefinitionOptions<F> = {},
): SagaBuilder<N, SchemaOutput<S>, F, AnyTransaction, SchemaInput<S>> {
  assertName('saga name', name);
  const failures = Object.freeze([...new Set(options.failures ?? [])]);
  for (const reason of failures) assertName(`failure reason of saga ${name}`, reason);
  const version = options.version === undefined ? undefined : normalizeSagaVersion(name, options.version);
  return new SagaBuilder<N, SchemaOutput<S>, F, AnyTransaction, SchemaInput<S>>(name, schema, failures, version);
}
