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

export type SagaDirection = 'forward' | 'backward';
export type SagaAction = 'invoke' | 'compensate';

/** A saga instance as stored: one row, updated with optimistic versioning. */
export interface SagaInstance<D = unknown> {
  readonly sagaId: string;
  readonly sagaType: string;
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
  readonly failureReason: string | null;
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

export interface SagaHistoryEntry {
  readonly id: number;
  readonly at: number;
  readonly step: string | null;
  readonly event: SagaHistoryEvent;
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface SagaView<D = unknown> extends SagaInstance<D> {
  readonly history: readonly SagaHistoryEntry[];
}
