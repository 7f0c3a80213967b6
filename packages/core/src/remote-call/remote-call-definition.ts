import { ConcordError, ConcordErrorCode } from '../errors.js';
import type { Transaction } from '../ports/store.js';
import type { RemoteCallRecord } from './remote-call-repository.js';
import type { RemoteOperation } from './remote-call-state.js';

/** What a call function receives: the caller-assigned key is the one thing it must send. */
export interface RemoteCall<P> {
  readonly type: string;
  readonly key: string;
  readonly operation: RemoteOperation;
  readonly payload: P;
  /** The remote id from an earlier answer; null when no answer named one yet (a lost create). */
  readonly remoteId: string | null;
  /** 1 for the first attempt at this request. */
  readonly attempt: number;
  /** Aborted when the call runs past the tracker's call timeout or the tracker stops. */
  readonly signal: AbortSignal;
}

/** A successful answer. */
export interface RemoteCallAnswer {
  /** The remote side's own id for the object (the seed's object_id), if it told us. */
  readonly remoteId?: string | null;
  /** The answer's body, kept with the intent (JSON). */
  readonly result?: unknown;
}

/**
 * Thrown by a call function when the remote side refused the request for good (a 4xx that no
 * retry can change): the intent moves to `<op>_failed`. Any other error is retried.
 */
export class RemoteCallRejectedError extends ConcordError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ConcordErrorCode.REMOTE_CALL_REJECTED, message, options);
    this.name = 'RemoteCallRejectedError';
  }
}

export type RemoteCallFunction<P> = (call: RemoteCall<P>) => Promise<RemoteCallAnswer | void>;

/** One kind of remote object (`carrier.label`) and how to create, update and delete it. */
export interface RemoteCallDefinition<P = unknown> {
  readonly type: string;
  readonly create?: RemoteCallFunction<P>;
  readonly update?: RemoteCallFunction<P>;
  readonly delete?: RemoteCallFunction<P>;
  /**
   * Runs in the same local transaction that records an outcome (done or failed, by an
   * answer, a person or consolidation), so the caller's own rows move with the intent.
   */
  readonly onSettled?: (tx: Transaction<unknown>, record: RemoteCallRecord<P>) => Promise<void> | void;
}

/** Keeps the payload type of a definition for `request` calls written against it. */
export function defineRemoteCall<P>(definition: RemoteCallDefinition<P>): RemoteCallDefinition<P> {
  return definition;
}
