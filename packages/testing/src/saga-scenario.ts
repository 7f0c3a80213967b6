import type { Broker, Logger, SqlStore } from '@concord/core';
import type { VirtualClock } from './virtual-clock.js';

/** What the services of one incarnation are built on. */
export interface ServiceEnv<S extends string> {
  /** Each service's store, on a fault-injecting driver over the run's real database. */
  readonly stores: Readonly<Record<S, SqlStore>>;
  /** The explorer's broker: delivers only when the explorer says so. */
  readonly broker: Broker;
  /** Give it to orchestrators, participants and consumers so backoff and expiry are reproducible. */
  readonly clock: VirtualClock;
  readonly logger: Logger;
}

export interface InvariantContext<S extends string> {
  /** The run's real stores (no faults), after recovery, with every service stopped. */
  readonly stores: Readonly<Record<S, SqlStore>>;
  /** False when a crash cut `act` short (the client saw an error, as over HTTP). */
  readonly actCompleted: boolean;
}

/** A check that throws (or returns a message) when the system is in a state it must never be in. */
export type Invariant<S extends string> = (context: InvariantContext<S>) => Promise<void | string> | void | string;

/**
 * A saga under test: how to get fresh databases, how to start the services on them (again
 * after every crash), what to do, and what must hold afterwards.
 */
export interface SagaScenario<S extends string, R> {
  readonly name: string;
  /** Fresh, migrated stores for one run, one per service (SQLite in memory or temp files). Closed after the run. */
  openStores(): Promise<Record<S, SqlStore>>;
  /** Builds and starts every service (orchestrators, participants) on `env`; relays are the explorer's. */
  start(env: ServiceEnv<S>): Promise<R>;
  stop(runtime: R): Promise<void>;
  /** Seeds data before faults are armed (customers, stock). */
  prepare?(runtime: R): Promise<void>;
  /** What is explored: start the saga(s). Its own transactions are boundaries too. */
  act(runtime: R): Promise<void>;
  readonly invariants: Readonly<Record<string, Invariant<S>>>;
}
