/** The operator API's answers, as far as the CLI reads them (extra fields pass through to --json). */

export interface SagaSummary {
  readonly sagaId: string;
  readonly sagaType: string;
  readonly status: string;
  readonly direction: string;
  readonly currentStep: number;
  readonly stepAttempts: number;
  readonly failureReason: string | null;
  readonly lastError: string | null;
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface SagaHistoryEntry {
  readonly id: number;
  readonly at: number;
  readonly step: string | null;
  readonly event: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface SagaDetail extends SagaSummary {
  readonly data: unknown;
  readonly history: readonly SagaHistoryEntry[];
}

export interface SagaList {
  readonly sagas: readonly SagaSummary[];
  readonly counts?: Readonly<Record<string, number>>;
}

export interface OutboxStatus {
  readonly outbox: Readonly<Record<string, { readonly count: number; readonly oldestAgeMs: number | null }>>;
}

export interface DeadLetter {
  readonly id: number;
  readonly consumer: string;
  readonly message: { readonly id: string; readonly type: string; readonly channel: string; readonly payload?: unknown };
  readonly error: string;
  readonly attempts: number;
  readonly failedAt: number;
  readonly replayedAt: number | null;
}

export interface DeadLetters {
  readonly deadLetters: Readonly<Record<string, readonly DeadLetter[]>>;
}
