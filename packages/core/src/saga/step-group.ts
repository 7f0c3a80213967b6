/* eslint-disable @typescript-eslint/no-explicit-any -- a branch works with any command */
import { assertName } from '../message/message-definition.js';
import type { CommandDefinition, CommandInvocation } from './command-definition.js';
import {
  buildStepBody,
  type Compensation,
  type LocalAction,
  type OnReply,
  type StepDefinition,
} from './saga-definition.js';

/** A branch that sends a command: like an invoke step, without a kind (branches are compensatable) or its own timeout. */
export interface InvokeBranchInput<D, C extends CommandDefinition> {
  readonly invoke: CommandInvocation<D, C>;
  readonly onReply?: OnReply<D, C>;
  readonly compensate?: Compensation<D>;
  readonly kind?: never;
  readonly timeoutMs?: never;
}

export interface LocalBranchInput<D> {
  readonly local: LocalAction<D>;
  readonly compensate?: Compensation<D>;
  readonly kind?: never;
}

type BranchInput<D> = InvokeBranchInput<D, any> | LocalBranchInput<D>;

export interface GroupInput<D> {
  readonly group: ReadonlyArray<{ readonly name: string; readonly input: BranchInput<D> }>;
  readonly timeoutMs?: number;
}

/** Collects the branches of `SagaBuilder.parallel(name, (g) => g.branch(...).branch(...))`. */
export class StepGroupBuilder<D> {
  readonly entries: Array<{ name: string; input: BranchInput<D> }> = [];

  branch<C extends CommandDefinition>(name: string, branch: InvokeBranchInput<D, C>): StepGroupBuilder<D>;
  branch(name: string, branch: LocalBranchInput<D>): StepGroupBuilder<D>;
  branch(name: string, branch: BranchInput<D>): StepGroupBuilder<D> {
    this.entries.push({ name, input: branch });
    return this;
  }
}

/** The separator between a group's and a branch's name in the branch's step name (`reserve.packet`). */
export const BRANCH_SEPARATOR = '.';

/** Validates a group's branches; each becomes a compensatable step named `<group>.<branch>`. */
export function buildGroup<D>(
  groupName: string,
  where: string,
  input: GroupInput<D>,
  problems: string[],
): Pick<StepDefinition<D>, 'branches' | 'timeoutMs'> {
  if (input.group.length < 2) problems.push(`${where}: a parallel group needs at least two branches`);
  const seen = new Set<string>();
  const branches = input.group.map(({ name, input: branch }, position): StepDefinition<D> => {
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
    const body = buildStepBody<D>(at, branch as LocalBranchInput<D>, problems);
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
