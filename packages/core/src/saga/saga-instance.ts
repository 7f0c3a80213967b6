export const SagaStatus = {
  RUNNING: 'RUNNING',
  COMPENSATING: 'COMPENSATING',
  COMPLETED: 'COMPLETED',
  COMPENSATED: 'COMPENSATED',
  STUCK: 'STUCK',
  ABORTED: 'ABORTED',
} as const;
export type SagaStatus = (typeof SagaStatus)[keyof typeof SagaStatus];

export const FINAL_STATUSES: ReadonlySet<SagaStatus> = new Set(['COMPLETED', 'COMPENSATED', 'ABORTED']);

import type { SagaDefinition } from './saga-definition.js';
import type { SagaFailureReason } from './saga-failure.js';

export type SagaDirection = 'forward' | 'backward';
export type SagaAction = 'invoke' | 'compensate';

/**
 * A saga instance as stored: one row, updated with optimistic versioning. `R` is what its
 * failure reason can be and `N` its saga type: see `SagaInstanceOf` for a registered saga's.
 */
export interface SagaInstance<D = unknown, R extends string = string, N extends string = string> {
  readonly sagaId: string;
  readonly sagaType: N;
  /** The definition version it started on and finishes on; null for instances started before versions were recorded. */
  readonly definitionVersion?: string | null;
  readonly data: D;
  readonly status: SagaStatus;
  readonly direction: SagaDirection;
  /** Index of the step being run (forward) or compensated (backward); steps.length when done. */
  readonly currentStep: number;
  /** Failed attempts of the current step or compensation. */
  readonly stepAttempts: number;
  /** Set while a command was sent and its reply is awaited. */
  readonly waitingAction: SagaAction | null;
  readonly waitingAttempt: number | null;
  /** When the scheduler must look at the saga again: a retry, or a reply's deadline. */
  readonly wakeAt: number | null;
  /** Why it turned back (a declared failure or one of Concord's codes), while and after it compensates. */
  readonly failureReason: R | null;
  readonly lastError: string | null;
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type SagaHistoryEvent =
  | 'STARTED'
  | 'STEP_DONE'
  | 'COMMAND_SENT'
  | 'REPLY'
  | 'STEP_FAILED'
  | 'TIMEOUT'
  | 'RETRY_SCHEDULED'
  | 'COMPENSATION_DONE'
  | 'COMPLETED'
  | 'COMPENSATED'
  | 'STUCK'
  | 'MANUAL_RETRY'
  | 'MANUAL_RESOLVE'
  | 'ABORTED'
  | 'DEADLOCK'
  | 'BRANCH_DONE'
  | 'BRANCH_FAILED'
  | 'BRANCH_COMPENSATED';

interface HistoryEntryBase {
  readonly id: number;
  readonly at: number;
  readonly step: string | null;
}

type ReasonEvent = 'STEP_FAILED' | 'BRANCH_FAILED' | 'COMPENSATED';

/** One history entry; the events that carry a failure reason carry it typed (`R`). */
export type SagaHistoryEntry<R extends string = string> =
  | (HistoryEntryBase & {
      readonly event: 'STEP_FAILED' | 'BRANCH_FAILED';
      readonly detail: Readonly<{ reason: R; error: string } & Record<string, unknown>>;
    })
  | (HistoryEntryBase & { readonly event: 'COMPENSATED'; readonly detail: Readonly<{ reason: R | null } & Record<string, unknown>> })
  | (HistoryEntryBase & { readonly event: Exclude<SagaHistoryEvent, ReasonEvent>; readonly detail: Readonly<Record<string, unknown>> });

export interface SagaView<D = unknown, R extends string = string, N extends string = string> extends SagaInstance<D, R, N> {
  readonly history: readonly SagaHistoryEntry<R>[];
}

/**
 * An instance of one of the sagas `S` (a union of definitions): a union discriminated by
 * `sagaType`, each with its saga's data and failure reasons. An orchestrator whose sagas are
 * not known by name (typed `SagaOrchestrator` without its sagas) gives plain `SagaInstance`s.
 */
export type SagaInstanceOf<S> =
  S extends SagaDefinition<infer D, infer F extends string, infer _T, infer N, infer _I>
    ? string extends N
      ? SagaInstance
      : SagaInstance<D, SagaFailureReason<F>, N>
    : never;

/** `SagaInstanceOf` with the history. */
export type SagaViewOf<S> = ViewOf<SagaInstanceOf<S>>;
type ViewOf<I> = I extends SagaInstance<infer D, infer R, infer N> ? SagaView<D, R, N> : never;
