/* eslint-disable @typescript-eslint/no-explicit-any -- a branch works with any command */
import { assertName } from '../message/message-definition.js';
import type { CommandDefinition, CommandInvocation } from './command-definition.js';
import {
  buildStepBody,
  type AnyTransaction,
  type Compensation,
  type LocalAction,
  type OnReply,
  type StepDefinition,
} from './saga-definition.js';

/** A branch that sends a command: like an invoke step, without a kind (branches are compensatable) or its own timeout. */
export interface InvokeBranchInput<D, C extends CommandDefinition, F extends string = string, T extends AnyTransaction = AnyTransaction> {
  readonly invoke: CommandInvocation<D, C>;
  readonly onReply: OnReply<D, C, F, T>;
  readonly compensate?: Compensation<D, F, T>;
  readonly kind?: never;
  readonly timeoutMs?: never;
}

export interface LocalBranchInput<D, F extends string = string, T extends AnyTransaction = AnyTransaction> {
  readonly local: LocalAction<D, T>;
  readonly compensate?: Compensation<D, F, T>;
  readonly kind?: never;
}

type BranchInput<D, F extends string, T extends AnyTransaction> = InvokeBranchInput<D, any, F, T> | LocalBranchInput<D, F, T>;

export interface GroupInput<D, F extends string = string, T extends AnyTransaction = AnyTransaction> {
  readonly group: ReadonlyArray<{ readonly name: string; readonly input: BranchInput<D, F, T> }>;
  readonly timeoutMs?: number;
}

/** Collects the branches of `SagaBuilder.parallel(name, (g) => g.branch(...).branch(...))`. */
export class StepGroupBuilder<D, F extends string = string, T extends AnyTransaction = AnyTransaction> {
  readonly entries: Array<{ name: string; input: BranchInput<D, F, T> }> = [];

  branch<C extends CommandDefinition>(name: string, branch: InvokeBranchInput<D, C, F, T>): this;
  branch(name: string, branch: LocalBranchInput<D, F, T>): this;
  branch(name: string, branch: BranchInput<D, F, T>): this {
    this.entries.push({ name, input: branch });
    return this;
  }
}

/** The separator between a group's and a branch's name in the branch's step name (`reserve.packet`). */
export const BRANCH_SEPARATOR = '.';

/** Validates a group's branches; each becomes a compensatable step named `<group>.<branch>`. */
export function buildGroup<D, F extends string, T extends AnyTransaction>(
  groupName: string,
  where: string,
  input: GroupInput<D, F, T>,
  failures: readonly string[],
  problems: string[],
): Pick<StepDefinition<D, F, T>, 'branches' | 'timeoutMs'> {
  if (input.group.length < 2) problems.push(`${where}: a parallel group needs at least two branches`);
  const seen = new Set<string>();
  const branches = input.group.map(({ name, input: branch }, position): StepDefinition<D, F, T> => {
    const at = `${where} branch "${name}"`;
    try {
      assertName('branch name', name);
    } catch (error) {
      problems.push(`${at}: ${(error as Error).message}`);
    }
    if (seen.has(name)) problems.push(`${at}: the name is used twice`);
    seen.add(name);
    if ('kind' in branch && branch.kind !== undefined)
      problems.push(`${at}: branches are compensatable, give no kind`);
    if ('timeoutMs' in branch && branch.timeoutMs !== undefined)
      problems.push(`${at}: the timeout is the group's (parallel(name, branches, { timeoutMs }))`);
    const body = buildStepBody<D, F, T>(at, branch as LocalBranchInput<D, F, T>, failures, problems);
    return Object.freeze({
      name: `${groupName}${BRANCH_SEPARATOR}${name}`,
      index: position,
      kind: 'compensatable' as const,
      ...body,
    });
  });
  const timeoutMs = input.timeoutMs;
  if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs <= 0))
    problems.push(`${where}: timeoutMs must be a positive integer`);
  return { branches: Object.freeze(branches), ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
}
