import type { ConcordErrorCode } from '../errors.js';
import { assertName } from '../message/message-definition.js';

/** Marks a reply as success: the saga goes on, its data unchanged. */
export interface OkAction {
  readonly kind: 'ok';
}

export interface FailAction<R extends string = string> {
  readonly kind: 'fail';
  readonly reason: R;
}

const OK: OkAction = Object.freeze({ kind: 'ok' });

/** The reply means success and changes nothing: `onReply: { Reserved: ok() }`. */
export function ok(): OkAction {
  return OK;
}

/**
 * Marks a reply as a business failure: the saga compensates, with `reason` recorded. The
 * reason keeps its literal type, and must be one of the saga's declared `failures`.
 */
export function fail<const R extends string>(reason: R): FailAction<R> {
  assertName('failure reason', reason);
  return { kind: 'fail', reason };
}

/**
 * Reasons Concord itself records when a step fails, besides the saga's declared ones: the
 * fallbacks below, and the `code` of a Concord error a step ran into (TIMEOUT, RESOURCE_LOCKED,
 * DEADLOCK, RESERVATION_EXPIRED...).
 */
export type SagaFailureCode =
  | ConcordErrorCode
  /** A local step threw an error without an UPPER_SNAKE `code`. */
  | 'LOCAL_STEP_FAILED'
  /** A reply handler threw an error without an UPPER_SNAKE `code`. */
  | 'REPLY_HANDLER_FAILED'
  /** The participant answered with a reply the command does not declare. */
  | 'UNKNOWN_REPLY'
  /** The reply's body does not match its schema. */
  | 'INVALID_REPLY'
  /** A compensation ran without a recorded reason (a person resolved the step by hand). */
  | 'UNKNOWN';

/**
 * Why a saga failed, as its compensations, its views and its history see it: one of the
 * reasons it declared (`defineSaga(name, schema, { failures })`) or one of Concord's own. A
 * local step that throws an error with an UPPER_SNAKE `code` records that code: declare it.
 */
export type SagaFailureReason<F extends string> = F | SagaFailureCode;

/** Every `fail(reason)` of a step names a declared failure (the compile-time rule, for JavaScript callers). */
export function checkFailReasons(
  where: string,
  onReply: Readonly<Record<string, unknown>>,
  declared: readonly string[],
  problems: string[],
): void {
  for (const [reply, action] of Object.entries(onReply)) {
    const reason = (action as Partial<FailAction> | null)?.kind === 'fail' ? (action as FailAction).reason : undefined;
    if (reason !== undefined && !declared.includes(reason)) {
      problems.push(
        `${where}: onReply.${reply} fails with "${reason}", which is not among the saga's failures (${declared.join(', ') || 'none declared'})`,
      );
    }
  }
}
