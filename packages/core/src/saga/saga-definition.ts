import { ConcordError, ConcordErrorCode } from '../errors.js';
import { assertName } from '../message/message-definition.js';
import type { Transaction } from '../ports/store.js';
import type { SchemaOutput, StandardSchemaV1 } from '../schema.js';
import type { CommandDefinition, CommandInvocation, RepliesOf } from './command-definition.js';
import { buildGroup, StepGroupBuilder, type GroupInput } from './step-group.js';

/**
 * compensatable: can be undone; pivot: the go/no-go step, never undone; retriable: after the
 * pivot, cannot fail for business reasons, so it is retried until it succeeds.
 */
export type StepKind = 'compensatable' | 'pivot' | 'retriable';

/* eslint-disable @typescript-eslint/no-explicit-any -- a step works with any store's handle */
export type AnyTransaction = Transaction<any>;

export interface FailAction {
  readonly kind: 'fail';
  readonly reason: string;
}

/** Marks a reply as a business failure: the saga compensates, with `reason` recorded. */
export function fail(reason: string): FailAction {
  assertName('failure reason', reason);
  return { kind: 'fail', reason };
}

export type ReplyHandler<D, P> = (data: D, reply: P, tx: AnyTransaction) => D | void | Promise<D | void>;
export type ReplyAction<D, P> = FailAction | ReplyHandler<D, P>;

/** One entry per reply you care about; a reply left out means success, data unchanged. */
export type OnReply<D, C> = {
  readonly [K in keyof RepliesOf<C> & string]?: ReplyAction<D, SchemaOutput<RepliesOf<C>[K]>>;
};

export type LocalAction<D> = (tx: AnyTransaction, data: D) => D | void | Promise<D | void>;
export type LocalCompensation<D> = (tx: AnyTransaction, data: D, reason: string) => void | Promise<void>;

export type Compensation<D> =
  | { readonly local: LocalCompensation<D>; readonly invoke?: never }
  | { readonly invoke: CommandInvocation<D, any>; readonly local?: never; readonly timeoutMs?: number };

export interface InvokeStepInput<D, C extends CommandDefinition> {
  readonly kind?: StepKind;
  readonly invoke: CommandInvocation<D, C>;
  readonly onReply?: OnReply<D, C>;
  readonly compensate?: Compensation<D>;
  /** Without a reply by then, a compensatable or pivot step fails with TIMEOUT; a retriable one is re-sent. */
  readonly timeoutMs?: number;
}

export interface LocalStepInput<D> {
  readonly kind?: StepKind;
  readonly local: LocalAction<D>;
  readonly compensate?: Compensation<D>;
}

/** A validated step, as the orchestrator runs it. */
export interface StepDefinition<D> {
  readonly name: string;
  readonly index: number;
  readonly kind: StepKind;
  readonly local?: LocalAction<D>;
  readonly invoke?: CommandInvocation<D, CommandDefinition>;
  readonly onReply?: Readonly<Record<string, ReplyAction<D, unknown>>>;
  readonly compensate?: Compensation<D>;
  readonly timeoutMs?: number;
  /** A parallel step group: its branches run at once and join (see step-group.ts). */
  readonly branches?: readonly StepDefinition<D>[];
}

export interface SagaDefinition<D = unknown> {
  readonly name: string;
  readonly schema: StandardSchemaV1;
  readonly steps: readonly StepDefinition<D>[];
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

export class SagaBuilder<D> {
  private readonly steps: Array<{ name: string; input: InvokeStepInput<D, any> | LocalStepInput<D> | GroupInput<D> }> = [];

  constructor(
    private readonly name: string,
    private readonly schema: StandardSchemaV1,
  ) {}

  step<C extends CommandDefinition>(name: string, step: InvokeStepInput<D, C>): SagaBuilder<D>;
  step(name: string, step: LocalStepInput<D>): SagaBuilder<D>;
  step(name: string, step: InvokeStepInput<D, any> | LocalStepInput<D>): SagaBuilder<D> {
    this.steps.push({ name, input: step });
    return this;
  }

  /**
   * A step group: its branches run at once and the saga goes on when all succeeded. When one
   * fails, the branches that succeeded are compensated (and the steps before the group).
   * Branches are compensatable, so a group comes before the pivot.
   */
  parallel(name: string, branches: (group: StepGroupBuilder<D>) => StepGroupBuilder<D>, options: { timeoutMs?: number } = {}): SagaBuilder<D> {
    const group = branches(new StepGroupBuilder<D>());
    this.steps.push({ name, input: { group: group.entries, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) } });
    return this;
  }

  /** Validates the whole definition; throws `SagaDefinitionError` listing every problem. */
  build(): SagaDefinition<D> {
    const problems: string[] = [];
    const seen = new Set<string>();
    let pivotAt = -1;
    let firstRetriable = -1;
    const steps = this.steps.map(({ name, input }, index): StepDefinition<D> => {
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
        const group = buildGroup(name, where, input, problems);
        if (kind === 'compensatable' && pivotAt >= 0) problems.push(`${where}: steps after the pivot must be retriable`);
        else if (firstRetriable >= 0) problems.push(`${where}: steps after a retriable step must be retriable`);
        return Object.freeze({ name, index, kind: 'compensatable' as const, ...group });
      }
      const body = buildStepBody(where, input, problems);
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
    return Object.freeze({ name: this.name, schema: this.schema, steps: Object.freeze(steps) });
  }
}

/** Checks and collects what a step or a branch does: local or invoke, onReply, compensate, timeout. */
export function buildStepBody<D>(
  where: string,
  input: InvokeStepInput<D, any> | LocalStepInput<D>,
  problems: string[],
): Pick<StepDefinition<D>, 'local' | 'invoke' | 'onReply' | 'compensate' | 'timeoutMs'> {
  const local = 'local' in input ? input.local : undefined;
  const invoke = 'invoke' in input ? input.invoke : undefined;
  if (!local === !invoke) problems.push(`${where}: give exactly one of local or invoke`);
  if (invoke && (typeof invoke.build !== 'function' || invoke.command?.kind !== 'command')) {
    problems.push(`${where}: invoke must be Command.with((data) => payload)`);
  }
  const onReply = 'onReply' in input ? (input.onReply as StepDefinition<D>['onReply']) : undefined;
  if (onReply && !invoke) problems.push(`${where}: onReply needs an invoke`);
  if (onReply && invoke) {
    for (const reply of Object.keys(onReply)) {
      if (!(reply in invoke.command.replies)) {
        problems.push(`${where}: ${invoke.command.type} has no reply "${reply}" (declared: ${Object.keys(invoke.command.replies).join(', ')})`);
      }
    }
  }
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

/** Starts a saga definition: `defineSaga('CreateOrder', schema).step(...).step(...).build()`. */
export function defineSaga<S extends StandardSchemaV1>(name: string, schema: S): SagaBuilder<SchemaOutput<S>> {
  assertName('saga name', name);
  return new SagaBuilder<SchemaOutput<S>>(name, schema);
}
