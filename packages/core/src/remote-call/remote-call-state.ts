import { IllegalStateError } from '../errors.js';

/** What the caller asks the remote service to do with the object its key names. */
export type RemoteOperation = 'create' | 'update' | 'delete';

/**
 * The seed's table: the intent is recorded as `<op>_requested` before the call, and the
 * answer moves it to done (`created`, `updated`, `deleted`) or failed (`<op>_failed`).
 */
export type RemoteCallState =
  | 'create_requested'
  | 'created'
  | 'create_failed'
  | 'update_requested'
  | 'updated'
  | 'update_failed'
  | 'delete_requested'
  | 'deleted'
  | 'delete_failed';

export const REQUESTED_STATE = {
  create: 'create_requested',
  update: 'update_requested',
  delete: 'delete_requested',
} as const satisfies Record<RemoteOperation, RemoteCallState>;

export const DONE_STATE = {
  create: 'created',
  update: 'updated',
  delete: 'deleted',
} as const satisfies Record<RemoteOperation, RemoteCallState>;

export const FAILED_STATE = {
  create: 'create_failed',
  update: 'update_failed',
  delete: 'delete_failed',
} as const satisfies Record<RemoteOperation, RemoteCallState>;

export const PENDING_STATES: readonly RemoteCallState[] = Object.values(REQUESTED_STATE);

export function isPending(state: RemoteCallState): boolean {
  return PENDING_STATES.includes(state);
}

/** The operation a state belongs to (`update_failed` → `update`). */
export function operationOf(state: RemoteCallState): RemoteOperation {
  if (state.startsWith('create') || state === 'created') return 'create';
  if (state.startsWith('update') || state === 'updated') return 'update';
  return 'delete';
}

/** What a new request does to an intent: a call to make, nothing to do, or a state reached without a call. */
export type RequestTransition =
  | { readonly kind: 'call'; readonly state: RemoteCallState }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'settled'; readonly state: RemoteCallState };

/**
 * The rules for asking again. A repeated create or delete is harmless (the key makes the
 * remote side idempotent), so it changes nothing; a failed create may be asked again with the
 * same key; a delete of an object whose create failed has nothing to delete. Anything else
 * that makes no sense (updating a deleted object) is refused.
 */
export function onRequest(
  current: RemoteCallState | undefined,
  op: RemoteOperation,
  key: string,
): RequestTransition {
  const refuse = (why: string): never => {
    throw new IllegalStateError(`remote call ${key}: cannot ${op} ${why}`);
  };
  if (current === undefined) {
    return op === 'create'
      ? { kind: 'call', state: 'create_requested' }
      : refuse('an object that was never created');
  }
  switch (op) {
    case 'create':
      if (current === 'create_failed') return { kind: 'call', state: 'create_requested' };
      if (current === 'create_requested' || current === 'created') return { kind: 'unchanged' };
      return refuse(`an object in state ${current}`);
    case 'update':
      if (
        current === 'created' ||
        current === 'updated' ||
        current === 'update_failed' ||
        current === 'update_requested'
      ) {
        return { kind: 'call', state: 'update_requested' };
      }
      return refuse(`an object in state ${current}`);
    case 'delete':
      if (current === 'delete_requested' || current === 'deleted') return { kind: 'unchanged' };
      // The remote side refused the create: there is nothing to delete.
      if (current === 'create_failed') return { kind: 'settled', state: 'deleted' };
      // Anything else, including a create still in flight: the delete call uses the key,
      // which names the object whether or not its create's answer ever arrived.
      return { kind: 'call', state: 'delete_requested' };
  }
}

/** Where an answer (or a person's resolution) takes a pending intent. */
export function onOutcome(current: RemoteCallState, outcome: 'done' | 'failed'): RemoteCallState {
  if (!isPending(current))
    throw new IllegalStateError(`remote call in state ${current} is not waiting for an answer`);
  const op = operationOf(current);
  return outcome === 'done' ? DONE_STATE[op] : FAILED_STATE[op];
}
