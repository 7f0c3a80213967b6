import { ConcordError, ConcordErrorCode, InvalidArgumentError } from '../errors.js';
import type { AnySagaDefinition, SagaDefinitionFor } from './saga-definition.js';

type AnySaga = AnySagaDefinition;
/** Any saga, whatever its transaction type (the orchestrator checked it against its store's). */
type SagaOfAnyStore = SagaDefinitionFor<never>;

/** An instance, or a group of instances, whose recorded definition version is not registered. */
export interface UnregisteredSagaVersion {
  readonly sagaType: string;
  /** null: the instance started before versions were recorded and no current definition exists. */
  readonly version: string | null;
  /** How many unfinished instances are on it. */
  readonly count: number;
  /** Their ids (the first ones when there are many). */
  readonly sagaIds: readonly string[];
}

/**
 * Unfinished saga instances whose definition version this orchestrator does not have. Thrown by
 * `start()` (nothing is consumed) and, for a reply or timer of such an instance, by its handling
 * (the reply is retried, then parked): the instance is never driven with the wrong steps.
 */
export class SagaVersionNotRegisteredError extends ConcordError {
  constructor(
    readonly orchestrator: string,
    readonly unregistered: readonly UnregisteredSagaVersion[],
  ) {
    super(
      ConcordErrorCode.SAGA_VERSION_NOT_REGISTERED,
      `orchestrator ${orchestrator} has unfinished sagas on definition versions it does not have: ` +
        unregistered
          .map((u) => `${u.sagaType}@${u.version ?? '(unrecorded)'} x${u.count} [${u.sagaIds.join(', ')}${u.count > u.sagaIds.length ? ', …' : ''}]`)
          .join('; ') +
        '. Register those definitions (previousVersions) until their sagas are finished.',
    );
    this.name = 'SagaVersionNotRegisteredError';
  }
}

/**
 * Every registered version of every saga type of one orchestrator. New sagas run on the current
 * definition of their type; an instance runs on the version it recorded when it started.
 */
export class SagaVersionRegistry {
  private readonly current = new Map<string, AnySaga>();
  private readonly byType = new Map<string, Map<string, AnySaga>>();

  constructor(current: readonly SagaOfAnyStore[], previous: readonly SagaOfAnyStore[]) {
    // Typed as any data and reasons from here on: each instance runs on its own definition only.
    for (const saga of current as readonly AnySaga[]) {
      if (this.current.has(saga.name)) throw new InvalidArgumentError(`saga ${saga.name} is registered twice`);
      this.current.set(saga.name, saga);
      this.add(saga);
    }
    for (const saga of previous as readonly AnySaga[]) this.add(saga);
  }

  private add(saga: AnySaga): void {
    const versions = this.byType.get(saga.name) ?? new Map<string, AnySaga>();
    const version = versionOf(saga);
    const existing = versions.get(version);
    if (existing && existing !== saga) {
      throw new InvalidArgumentError(
        `saga ${saga.name} version ${version} is registered twice with different definitions: give each an explicit, distinct version`,
      );
    }
    versions.set(version, saga);
    this.byType.set(saga.name, versions);
  }

  /** The definition new sagas of this type run on. */
  newest(sagaType: string): AnySaga | undefined {
    return this.current.get(sagaType);
  }

  /**
   * The definition an instance finishes on. An instance without a recorded version started
   * before versions were recorded: it runs on the current definition, as it did then.
   */
  resolve(sagaType: string, version: string | null | undefined): AnySaga | undefined {
    if (version == null) return this.current.get(sagaType);
    return this.byType.get(sagaType)?.get(version);
  }

  has(sagaType: string, version: string | null): boolean {
    return this.resolve(sagaType, version) !== undefined;
  }

  types(): string[] {
    return [...this.byType.keys()];
  }

  /** Registered versions per type, the current one first (for logs and the console). */
  describe(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [type, versions] of this.byType) {
      const current = this.current.get(type);
      const rest = [...versions.keys()].filter((v) => !current || v !== versionOf(current));
      out[type] = current ? [versionOf(current), ...rest] : rest;
    }
    return out;
  }
}

/** A definition's version (explicit, or the fingerprint of its steps). */
export function versionOf(saga: AnySaga): string {
  return saga.version;
}
