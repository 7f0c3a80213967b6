import { DEADLOCK_REPLY, RESOURCE_LOCKED_REPLY, type SagaReplyPayload } from './saga-messages.js';
import type { SagaTransition } from './saga-transition.js';

/** Whether a reply is one of Concord's isolation replies rather than one the command declares. */
export function isIsolationReply(reply: string): boolean {
  return reply === RESOURCE_LOCKED_REPLY || reply === DEADLOCK_REPLY;
}

/**
 * A participant refused the command because of a semantic lock (fail fast), or the deadlock
 * detector chose this saga to break a cycle: the step fails with RESOURCE_LOCKED or DEADLOCK
 * (a retriable step tries again later), and the cycle goes into the saga's history.
 */
export async function applyIsolationReply(t: SagaTransition, reply: SagaReplyPayload): Promise<void> {
  const step = t.step!;
  const code = reply.reply === DEADLOCK_REPLY ? 'DEADLOCK' : 'RESOURCE_LOCKED';
  const body = (reply.body ?? {}) as Record<string, unknown>;
  if (code === 'DEADLOCK') {
    t.record('DEADLOCK', {
      cycle: body.cycle ?? null,
      resource: body.resource ?? null,
      detectedAfterMs: body.detectedAfterMs ?? null,
    });
  }
  const error = Object.assign(
    new Error(
      code === 'DEADLOCK'
        ? `chosen to break a deadlock on ${String(body.resource)}`
        : `${String(body.resource)} is locked by saga ${String(body.heldBy)}`,
    ),
    { code },
  );
  if (reply.action === 'compensate') {
    t.retryOrStuck(step, error);
    return;
  }
  if (step.kind === 'retriable') t.draft.waitingAttempt = (t.draft.waitingAttempt ?? 1) + 1;
  await t.stepFailed(step, error, code);
}
