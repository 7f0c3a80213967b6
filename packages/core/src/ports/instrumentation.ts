import type { MessageEnvelope } from '../message/envelope.js';
import type { SagaHistoryEvent, SagaStatus } from '../saga/saga-instance.js';

/** One committed saga history entry, as instrumentation sees it. */
export interface SagaSignal {
  readonly sagaId: string;
  readonly sagaType: string;
  readonly step: string | null;
  readonly event: SagaHistoryEvent;
  /** The saga's status once the transition committed. */
  readonly status: SagaStatus;
  /**
   * STEP_DONE and COMPENSATION_DONE only: how long the step took. A local step's own run
   * time; a remote step's time from its command being sent to its reply being applied.
   */
  readonly durationMs?: number;
}

/** A batch the relay handed to the broker. */
export interface RelaySignal {
  readonly messages: readonly MessageEnvelope[];
  readonly durationMs: number;
}

/** A batch a consumer finished (applied, duplicates skipped, failures retried or parked). */
export interface ConsumerBatchSignal {
  readonly consumer: string;
  readonly channel: string;
  readonly partition: number;
  readonly messages: number;
  readonly durationMs: number;
  /** Age of the batch's oldest message when its handling began: how far the consumer trails. */
  readonly oldestAgeMs: number;
}

/** A message whose handler failed: retried later, or parked as a dead letter. */
export interface MessageFailureSignal {
  readonly consumer: string;
  readonly message: MessageEnvelope;
  readonly attempts: number;
  readonly error: string;
  readonly deadLettered: boolean;
}

/** A unit of work to trace: handling one message, or starting a saga. */
export interface SpanRequest {
  readonly name: string;
  readonly kind: 'internal' | 'consumer';
  /** Headers carrying the parent's trace context (`traceparent`, `tracestate`), when it came from a message. */
  readonly parentHeaders?: Readonly<Record<string, string>>;
  readonly attributes?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * Where Concord reports what it does, for metrics and tracing. Every method is optional and
 * called after the fact (after commit, for sagas), synchronously: implementations count and
 * return, and must not throw. Core ships only the no-op default; `@concord/observability`
 * has the Prometheus and OpenTelemetry implementations, so core stays free of both.
 */
export interface Instrumentation {
  sagaTransition?(signals: readonly SagaSignal[]): void;
  relayPublished?(signal: RelaySignal): void;
  relayFailed?(error: unknown): void;
  consumerBatch?(signal: ConsumerBatchSignal): void;
  messageFailed?(signal: MessageFailureSignal): void;
  /**
   * Runs `fn` as the span `request` (a consumer handling a message, a saga starting): tracing
   * makes it the active context, so messages written inside carry it (see `traceHeaders`).
   * Must call `fn` exactly once and return what it returns (or throw what it throws).
   */
  inSpan?<T>(request: SpanRequest, fn: () => Promise<T>): Promise<T>;
  /** The active trace context as message headers, stamped on each message written to the outbox. */
  traceHeaders?(): Readonly<Record<string, string>> | undefined;
}

export const noInstrumentation: Instrumentation = Object.freeze({});

/** Reports to each of `list` in turn (metrics and tracing side by side). */
export function combineInstrumentation(...list: readonly Instrumentation[]): Instrumentation {
  const each =
    <K extends keyof Instrumentation>(key: K) =>
    (arg: Parameters<NonNullable<Instrumentation[K]>>[0]) => {
      for (const i of list) (i[key] as ((a: typeof arg) => void) | undefined)?.(arg);
    };
  return {
    sagaTransition: each('sagaTransition'),
    relayPublished: each('relayPublished'),
    relayFailed: each('relayFailed'),
    consumerBatch: each('consumerBatch'),
    messageFailed: each('messageFailed'),
    inSpan: <T>(request: SpanRequest, fn: () => Promise<T>) =>
      list.reduceRight<() => Promise<T>>((next, i) => (i.inSpan ? () => i.inSpan!(request, next) : next), fn)(),
    traceHeaders: () => {
      for (const i of list) {
        const headers = i.traceHeaders?.();
        if (headers) return headers;
      }
      return undefined;
    },
  };
}
