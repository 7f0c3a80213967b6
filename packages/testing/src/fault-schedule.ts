import { InvalidArgumentError } from '@concord/core';

/**
 * The points of a run where a fault can strike:
 * - `commit`: a local transaction of one service is about to commit;
 * - `publish`: the relay has handed a message to the broker, not yet marked it sent;
 * - `deliver`: the broker is about to hand a message to a consumer group.
 */
export type BoundaryKind = 'commit' | 'publish' | 'deliver';

export const FAULTS_AT = {
  /** The process dies before COMMIT (the transaction rolls back) or just after it. */
  commit: ['crash-before-commit', 'crash-after-commit'],
  /** The process dies before marking the message sent (it is published again), or the broker stores it twice. */
  publish: ['crash-after-publish', 'duplicate'],
  /** Delivered twice; held back until everything else is done (and the clock moved on); or overtaken by the last message waiting. */
  deliver: ['duplicate', 'delay', 'reorder'],
} as const satisfies Record<BoundaryKind, readonly string[]>;

export type FaultKind = (typeof FAULTS_AT)[BoundaryKind][number];

const ALL_FAULTS: ReadonlySet<string> = new Set(Object.values(FAULTS_AT).flat());

/** One boundary a run passed, numbered from 0 in the order the run reached them. */
export interface Boundary {
  readonly index: number;
  readonly kind: BoundaryKind;
  /** What was going on, e.g. `commit in customers (deliver customer.ReserveCredit to customer-service)`. */
  readonly label: string;
}

export interface Fault {
  readonly kind: FaultKind;
  /** The boundary's number in this schedule's own run (faults change what comes after them). */
  readonly at: number;
}

/** A schedule is the list of faults a run injects; its printed form replays it exactly. */
export type Schedule = readonly Fault[];

/** `crash-after-commit@7,duplicate@12`; the empty schedule prints as `none`. */
export function formatSchedule(schedule: Schedule): string {
  if (schedule.length === 0) return 'none';
  return [...schedule]
    .sort((a, b) => a.at - b.at)
    .map((f) => `${f.kind}@${f.at}`)
    .join(',');
}

export function parseSchedule(text: string): Schedule {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'none') return [];
  const seen = new Set<number>();
  return trimmed.split(',').map((part) => {
    const match = /^([a-z-]+)@(\d+)$/.exec(part.trim());
    if (!match || !ALL_FAULTS.has(match[1]!)) {
      throw new InvalidArgumentError(`schedule part "${part}" is not <fault>@<boundary> (faults: ${[...ALL_FAULTS].join(', ')})`);
    }
    const at = Number(match[2]);
    if (seen.has(at)) throw new InvalidArgumentError(`schedule "${text}" has two faults at boundary ${at}`);
    seen.add(at);
    return { kind: match[1] as FaultKind, at };
  });
}

export function faultFits(kind: FaultKind, boundary: BoundaryKind): boolean {
  return (FAULTS_AT[boundary] as readonly string[]).includes(kind);
}
