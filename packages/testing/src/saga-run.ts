import { OutboxRelay, silentLogger, SqlStore, type Logger } from '@concord/core';
import { FaultInjectingDriver } from './fault-injecting-driver.js';
import type { FaultPlan } from './fault-plan.js';
import type { Boundary, BoundaryKind, Fault, FaultKind } from './fault-schedule.js';
import { RunControl } from './run-control.js';
import type { SagaScenario } from './saga-scenario.js';
import { ScheduledBroker } from './scheduled-broker.js';
import { isSimulatedCrash, SimulatedCrash } from './simulated-crash.js';
import { VirtualClock } from './virtual-clock.js';

export interface RunSettings {
  /** How far a `delay` moves the clock when the held messages are finally let through. */
  readonly delayMs: number;
  /**
   * Real time to wait, after moving the clock, for the orchestrators' scheduler loops to fire
   * the timers (timeouts, retries) that became due. 0: timers are not fired.
   */
  readonly timerWaitMs: number;
  /** Actions (relay rounds, deliveries) before a run counts as not settling. */
  readonly maxSteps: number;
  /** Real time one action may take before the run counts as hung. */
  readonly actionTimeoutMs: number;
  readonly logger?: Logger;
}

export interface InvariantFailure {
  readonly invariant: string;
  readonly message: string;
}

export interface RunResult {
  readonly boundaries: readonly Boundary[];
  readonly injected: readonly Fault[];
  readonly crashes: number;
  readonly actCompleted: boolean;
  readonly failures: readonly InvariantFailure[];
}

/** Lets promises the last action left behind (after-commit hooks) run before the next one. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * One run of a scenario under one fault plan: fresh stores, services started on
 * fault-injecting ports, `act`, then relays and deliveries one at a time in a fixed order
 * until nothing is left to do, restarting every service after each crash; then one more
 * restart (recovery, as after a real crash), and the invariants on the real stores.
 */
export async function runScenario<S extends string, R>(scenario: SagaScenario<S, R>, plan: FaultPlan, settings: RunSettings): Promise<RunResult> {
  const logger = settings.logger ?? silentLogger;
  const boundaries: Boundary[] = [];
  const injected: Fault[] = [];
  const control = new RunControl((kind: BoundaryKind, label: string): FaultKind | undefined => {
    const index = boundaries.length;
    boundaries.push({ index, kind, label });
    const fault = plan.faultAt(index, kind);
    if (fault) injected.push({ kind: fault, at: index });
    return fault;
  });
  const broker = new ScheduledBroker(control);
  const clock = new VirtualClock();
  const raw = await scenario.openStores();
  const names = Object.keys(raw).sort() as S[];
  let runtime: R | undefined;
  let relays = new Map<S, OutboxRelay>();
  let crashes = 0;
  let actCompleted = false;
  const failures: InvariantFailure[] = [];

  const start = async () => {
    const incarnation = control.incarnation;
    const armed = control.armed;
    control.armed = false;
    const stores = {} as Record<S, SqlStore>;
    for (const name of names) {
      stores[name] = new SqlStore(new FaultInjectingDriver(raw[name].driver, control, name, incarnation), { logger, clock });
    }
    const serviceBroker = broker.forIncarnation(incarnation);
    runtime = await scenario.start({ stores, broker: serviceBroker, clock, logger });
    relays = new Map(names.map((n) => [n, new OutboxRelay({ store: stores[n], broker: serviceBroker, batchSize: 1, logger, clock })]));
    control.armed = armed;
  };
  const stop = async () => {
    const current = runtime;
    runtime = undefined;
    if (current !== undefined) await withTimeout(scenario.stop(current), settings.actionTimeoutMs, 'stop').catch(() => undefined);
  };
  /** Runs one action; a simulated crash restarts every service, anything else fails the run. */
  const act = async (what: string, action: () => Promise<void>): Promise<boolean> => {
    control.activity = what;
    const incarnation = control.incarnation;
    try {
      await withTimeout(action(), settings.actionTimeoutMs, what);
      await settle();
      // A crash that user code caught and swallowed still killed the process.
      if (control.incarnation !== incarnation) throw new SimulatedCrash(`during ${what} (the error was swallowed)`);
      return true;
    } catch (error) {
      if (!isSimulatedCrash(error)) throw error;
      crashes++;
      await settle();
      await stop();
      await start();
      return false;
    }
  };
  const drive = async () => {
    for (let steps = 0; ; steps++) {
      if (steps >= settings.maxSteps) throw new Error(`the run did not settle within ${settings.maxSteps} relay rounds and deliveries`);
      const relayOf = await firstWithUnsent(raw, names);
      if (relayOf !== undefined) {
        await act(`relay ${relayOf}`, async () => void (await relays.get(relayOf)!.publishBatch()));
        continue;
      }
      const queues = broker.deliverable();
      const next = queues[0];
      if (next) {
        control.activity = `deliver ${describe(next)}`;
        const fault = control.reach('deliver', describe(next));
        if (fault === 'delay') {
          next.held = true;
          continue;
        }
        const target = fault === 'reorder' && queues.length > 1 ? queues[queues.length - 1]! : next;
        await act(`deliver ${describe(target)}`, () => broker.deliverHead(target, fault === 'duplicate'));
        continue;
      }
      const held = broker.heldQueues();
      if (held.length > 0) {
        // The held messages are late: time passes first, and fires what it made due.
        clock.advance(settings.delayMs);
        await fireTimers();
        for (const queue of held) queue.held = false;
        continue;
      }
      // Quiet: let time pass until no timer does anything any more.
      if (settings.timerWaitMs <= 0) return;
      const commits = control.commits;
      clock.advance(settings.delayMs);
      await fireTimers();
      if (control.commits === commits && (await firstWithUnsent(raw, names)) === undefined && broker.deliverable().length === 0) return;
    }
  };
  /** Waits (real time) while the orchestrators' scheduler loops fire the timers now due. */
  const fireTimers = async () => {
    if (settings.timerWaitMs > 0) await act('timers', () => new Promise<void>((resolve) => setTimeout(resolve, settings.timerWaitMs)));
  };

  try {
    await start();
    if (scenario.prepare) await scenario.prepare(runtime as R);
    // Whatever `prepare` sent is delivered before faults are armed.
    await drive();
    control.armed = true;
    actCompleted = await act('act', () => scenario.act(runtime as R));
    await drive();
    // Recovery: a last restart from the same stores, as after a real crash, then quiet again.
    await act('recovery restart', async () => {
      await stop();
      await start();
    });
    await drive();
    control.armed = false;
    await stop();
    for (const [name, check] of Object.entries(scenario.invariants)) {
      try {
        const verdict = await check({ stores: raw, actCompleted });
        if (typeof verdict === 'string') failures.push({ invariant: name, message: verdict });
      } catch (error) {
        failures.push({ invariant: name, message: error instanceof Error ? error.message : String(error) });
      }
    }
  } catch (error) {
    failures.push({ invariant: 'the run completes', message: error instanceof Error ? error.message : String(error) });
  } finally {
    control.armed = false;
    await stop();
    for (const name of names) await raw[name].close().catch(() => undefined);
  }
  return { boundaries, injected, crashes, actCompleted, failures };
}

function describe(queue: { group: string; messages: ReadonlyArray<{ envelope: { type: string } }> }): string {
  return `${queue.messages[0]!.envelope.type} to ${queue.group}`;
}

async function firstWithUnsent<S extends string>(stores: Record<S, SqlStore>, names: readonly S[]): Promise<S | undefined> {
  for (const name of names) if ((await stores[name].outbox.lag()).count > 0) return name;
  return undefined;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms (a deadlock or a handler that never returns)`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
