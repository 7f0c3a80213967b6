import { systemClock, type Clock } from '../ports/clock.js';
import type { RemoteCallRecord } from './remote-call-repository.js';
import { isPending, type RemoteCallState } from './remote-call-state.js';
import type { RemoteCallTracker } from './remote-call-tracker.js';

/** One object as the remote side reports it (the seed's object_key and object_id). */
export interface RemoteObject {
  readonly remoteId: string;
  /** The caller-assigned key it was created with; null if the remote side has none. */
  readonly key: string | null;
  /** False once voided or deleted: such an object holds nothing. */
  readonly active: boolean;
}

export interface LeakedObject {
  readonly remoteId: string;
  readonly key: string | null;
  readonly reason: string;
  readonly repaired: boolean;
  readonly error?: string;
}

export interface StaleIntent {
  readonly key: string;
  readonly state: RemoteCallState;
  readonly remoteId: string | null;
  readonly requestedAt: number;
  readonly attempts: number;
  readonly parked: boolean;
  readonly lastError: string | null;
  /** What consolidation did: the intent was finished from what the remote side showed. */
  readonly repaired: boolean;
}

export interface ConsolidationReport {
  /** Keys compared: every remote object's and every intent's. */
  readonly checked: number;
  readonly leaked: LeakedObject[];
  readonly stale: StaleIntent[];
  /** What could not be repaired: a person decides (resolve the intent, or void the object by hand). */
  readonly needsPerson: Array<LeakedObject | StaleIntent>;
}

export interface RemoteCallConsolidationOptions {
  readonly tracker: RemoteCallTracker;
  readonly type: string;
  /** Everything the remote side holds for this caller (a paged API read to the end). */
  readonly listRemote: () => Promise<Iterable<RemoteObject>>;
  /** Voids a leaked object; without it leaks are only listed. */
  readonly voidRemote?: (object: RemoteObject) => Promise<void>;
  /** A pending intent whose request is older than this is stale. */
  readonly staleAfterMs: number;
  readonly clock?: Clock;
}

/**
 * Makes the caller's intents and the remote side agree on one picture: remote objects no
 * intent accounts for are leaks (voided when `repair`), pending intents past `staleAfterMs`
 * are finished from what the remote side shows when that proves their outcome, and the rest
 * is listed for a person.
 */
export class RemoteCallConsolidation {
  private readonly clock: Clock;

  constructor(private readonly options: RemoteCallConsolidationOptions) {
    this.clock = options.clock ?? systemClock;
  }

  async run({ repair }: { readonly repair: boolean }): Promise<ConsolidationReport> {
    const { tracker, type } = this.options;
    // Remote side first: an intent recorded after this read cannot then look like a leak.
    const remote = [...(await this.options.listRemote())];
    const intents = new Map<string, RemoteCallRecord>();
    for (const r of await tracker.list({ type, limit: 1_000_000 })) intents.set(r.key, r);
    const activeByKey = new Map<string, RemoteObject[]>();
    for (const o of remote)
      if (o.active && o.key !== null) activeByKey.set(o.key, [...(activeByKey.get(o.key) ?? []), o]);

    const leaked: LeakedObject[] = [];
    for (const o of remote) {
      if (!o.active) continue;
      const reason = this.leakReason(o, o.key === null ? undefined : intents.get(o.key));
      if (reason === undefined) continue;
      let repaired = false;
      let error: string | undefined;
      if (repair && this.options.voidRemote) {
        try {
          await this.options.voidRemote(o);
          repaired = true;
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
      }
      leaked.push({ remoteId: o.remoteId, key: o.key, reason, repaired, ...(error ? { error } : {}) });
    }

    const staleBefore = this.clock.now() - this.options.staleAfterMs;
    const stale: StaleIntent[] = [];
    for (const r of intents.values()) {
      if (!isPending(r.state) || (r.requestedAt >= staleBefore && r.parkedAt === null)) continue;
      const objects = activeByKey.get(r.key) ?? [];
      let repaired = false;
      if (repair && r.state === 'create_requested' && objects.length === 1) {
        // The remote side holds the object this key asked for: the create happened.
        repaired = await tracker.settleFromEvidence(
          type,
          r.key,
          'done',
          { remoteId: objects[0]!.remoteId },
          'the remote side holds the object',
        );
      } else if (repair && r.state === 'delete_requested' && objects.length === 0) {
        repaired = await tracker.settleFromEvidence(
          type,
          r.key,
          'done',
          {},
          'the remote side holds no active object for the key',
        );
      }
      stale.push({
        key: r.key,
        state: r.state,
        remoteId: r.remoteId,
        requestedAt: r.requestedAt,
        attempts: r.attempts,
        parked: r.parkedAt !== null,
        lastError: r.lastError,
        repaired,
      });
    }
    const keys = new Set<string>([...intents.keys(), ...remote.map((o) => o.key ?? `#${o.remoteId}`)]);
    return {
      checked: keys.size,
      leaked,
      stale,
      needsPerson: [...leaked.filter((l) => !l.repaired), ...stale.filter((s) => !s.repaired)],
    };
  }

  /** Why an active remote object is a leak, or undefined when an intent accounts for it. */
  private leakReason(o: RemoteObject, intent: RemoteCallRecord | undefined): string | undefined {
    if (!intent) return o.key === null ? 'no caller key' : 'no intent for this key';
    if (intent.state === 'deleted') return 'the intent says it was deleted';
    if (intent.state === 'create_failed') return 'the intent says its create failed';
    // The object the key's intent knows is another one: a second object for one key.
    if (intent.remoteId !== null && intent.remoteId !== o.remoteId)
      return `the intent names object ${intent.remoteId}`;
    return undefined;
  }
}
