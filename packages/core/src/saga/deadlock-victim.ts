import { MessageHeader } from '../message/envelope.js';
import type { SemanticLocks } from '../isolation/semantic-locks.js';
import type { WaitCycle, WaitEdge } from '../isolation/waits-for-graph.js';
import type { SqlStoreTransaction } from '../sql/sql-store.js';
import type { ParticipantBarrier } from './participant-barrier.js';
import type { SagaAction } from './saga-instance.js';
import { DEADLOCK_REPLY, SAGA_ATTEMPT_HEADER, sagaReplyMessage } from './saga-messages.js';

/**
 * Fails a deadlock victim's parked command, in the participant's transaction `tx`: the wait
 * goes, an action is blocked for good at the barrier (a copy already re-sent must not run),
 * and the saga gets the DEADLOCK reply carrying the cycle, for its history. False when the
 * wait was gone already (the lock was released meanwhile).
 */
export async function failDeadlockVictim(
  tx: SqlStoreTransaction<unknown>,
  parts: { readonly locks: SemanticLocks; readonly barrier: ParticipantBarrier; readonly now: number },
  victim: WaitEdge,
  cycle: WaitCycle,
): Promise<boolean> {
  const wait = await parts.locks.takeWait(tx, victim.waitId);
  if (!wait) return false;
  const h = wait.envelope.headers;
  // An action given up must never run late; a compensation must run in the end (its retry reuses the key).
  if (wait.action === 'invoke') await parts.barrier.block(tx.exec, wait.sagaId, wait.step, wait.barrierKey, parts.now);
  const replyChannel = h[MessageHeader.replyChannel];
  if (!replyChannel) return true;
  await tx.outbox.send(sagaReplyMessage(replyChannel), {
    sagaId: wait.sagaId,
    step: wait.step,
    action: wait.action as SagaAction,
    attempt: Number(h[SAGA_ATTEMPT_HEADER] ?? '1') || 1,
    reply: DEADLOCK_REPLY,
    body: {
      resource: wait.resource,
      // From the moment the cycle closed (its newest wait) to its breaking, for the record.
      detectedAfterMs: parts.now - Math.max(...cycle.edges.map((e) => e.waitingSince)),
      cycle: cycle.edges.map((e) => ({
        saga: e.waiter,
        resource: e.resource,
        service: e.service,
        heldBy: e.holder,
      })),
    },
  });
  return true;
}
