import { InvalidArgumentError, type Logger } from '@concord/core';
import { planOf, randomPlan } from './fault-plan.js';
import { FAULTS_AT, formatSchedule, parseSchedule, type Boundary, type FaultKind, type Schedule } from './fault-schedule.js';
import { runScenario, type InvariantFailure, type RunResult, type RunSettings } from './saga-run.js';
import type { SagaScenario } from './saga-scenario.js';
import { SeededRandom } from './seeded-random.js';

export interface ExploreOptions {
  /**
   * `exhaustive`: every fault kind at every boundary of the fault-free run, one fault per run.
   * `sampled`: `runs` schedules of 1 to `maxFaults` faults at boundaries drawn with `seed`.
   * Default: exhaustive when that is at most `exhaustiveLimit` runs, sampled otherwise.
   */
  readonly mode?: 'exhaustive' | 'sampled';
  readonly exhaustiveLimit?: number;
  /**
   * Exhaustive mode: 2 also runs, after each one-fault schedule, every second fault at every
   * later boundary of that run (a crash during recovery from a crash, say). Runs grow with
   * the square of the boundaries. Default 1.
   */
  readonly depth?: 1 | 2;
  readonly runs?: number;
  readonly seed?: number;
  readonly maxFaults?: number;
  /** Fault kinds to inject; default all of them. */
  readonly faults?: readonly FaultKind[];
  /** Stop at the first schedule that breaks an invariant. Default true. */
  readonly stopAtFirstViolation?: boolean;
  /** How far the clock moves when delayed messages are let through, or when the run is quiet. Default 60 s. */
  readonly delayMs?: number;
  /**
   * For sagas with timeouts or retries: real time to wait, after moving the clock, for the
   * orchestrators' scheduler loops to fire what became due. Give the orchestrators
   * `env.clock` and a `schedulerIntervalMs` well below it (e.g. 5 and 40). Default 0: no timers.
   */
  readonly timerWaitMs?: number;
  readonly maxSteps?: number;
  readonly actionTimeoutMs?: number;
  readonly logger?: Logger;
}

export interface Violation {
  /** Pass it to `replay` to run exactly this schedule again. */
  readonly schedule: string;
  readonly failures: readonly InvariantFailure[];
  /** Every boundary of the violating run, the faulted ones marked. */
  readonly trace: readonly string[];
}

export interface ExplorationReport {
  readonly scenario: string;
  readonly mode: 'exhaustive' | 'sampled';
  /** Faults per run in exhaustive mode (1 or 2); the most per run when sampled. */
  readonly depth: number;
  readonly seed: number | null;
  /** Boundaries of the fault-free run. */
  readonly boundaries: number;
  /** Schedules run, the fault-free one included. */
  readonly explored: number;
  readonly faultsInjected: Readonly<Record<string, number>>;
  readonly crashes: number;
  readonly durationMs: number;
  /** The first violating schedule found, if any. */
  readonly violation: Violation | null;
}

const ALL_FAULTS = [...new Set(Object.values(FAULTS_AT).flat())] as FaultKind[];

/**
 * Runs a scenario under every fault (or a seeded sample of fault combinations) at every
 * commit, publish and delivery boundary, restarting the services after each crash, and
 * checks the scenario's invariants after each run. Runs are deterministic: the schedule
 * string of a violation replays it exactly.
 */
export class SagaExplorer<S extends string, R> {
  private readonly settings: RunSettings;

  constructor(
    private readonly scenario: SagaScenario<S, R>,
    private readonly options: ExploreOptions = {},
  ) {
    this.settings = {
      delayMs: options.delayMs ?? 60_000,
      timerWaitMs: options.timerWaitMs ?? 0,
      maxSteps: options.maxSteps ?? 10_000,
      actionTimeoutMs: options.actionTimeoutMs ?? 10_000,
      ...(options.logger ? { logger: options.logger } : {}),
    };
    for (const kind of options.faults ?? []) {
      if (!ALL_FAULTS.includes(kind)) throw new InvalidArgumentError(`unknown fault "${kind}" (known: ${ALL_FAULTS.join(', ')})`);
    }
  }

  /** Runs one printed schedule (`crash-after-commit@7,duplicate@12`, or `none`). */
  async replay(schedule: string | Schedule): Promise<{ result: RunResult; violation: Violation | null }> {
    const parsed = typeof schedule === 'string' ? parseSchedule(schedule) : schedule;
    const result = await runScenario(this.scenario, planOf(parsed), this.settings);
    return { result, violation: violationOf(result) };
  }

  async explore(): Promise<ExplorationReport> {
    const started = performance.now();
    const allowed = new Set(this.options.faults ?? ALL_FAULTS);
    const counts: Record<string, number> = {};
    let explored = 0;
    let crashes = 0;
    let violation: Violation | null = null;
    const stopAtFirst = this.options.stopAtFirstViolation ?? true;
    const record = (result: RunResult): boolean => {
      explored++;
      crashes += result.crashes;
      for (const f of result.injected) counts[f.kind] = (counts[f.kind] ?? 0) + 1;
      violation ??= violationOf(result);
      return violation !== null && stopAtFirst;
    };

    const clean = await runScenario(this.scenario, planOf([]), this.settings);
    const exhaustive = exhaustiveSchedules(clean.boundaries, allowed);
    const mode = this.options.mode ?? (exhaustive.length <= (this.options.exhaustiveLimit ?? 2_000) ? 'exhaustive' : 'sampled');
    const seed = mode === 'sampled' ? (this.options.seed ?? 1) : null;
    const depth = mode === 'sampled' ? Math.max(1, this.options.maxFaults ?? 3) : (this.options.depth ?? 1);
    if (!record(clean)) {
      if (mode === 'exhaustive') {
        explore: for (const schedule of exhaustive) {
          const result = await runScenario(this.scenario, planOf(schedule), this.settings);
          if (record(result)) break;
          if (depth < 2) continue;
          for (const second of exhaustiveSchedules(result.boundaries, allowed, schedule[0]!.at + 1)) {
            if (record(await runScenario(this.scenario, planOf([...schedule, ...second]), this.settings))) break explore;
          }
        }
      } else {
        const random = new SeededRandom(seed!);
        const maxFaults = depth;
        // Faults may land a little past the fault-free run's end: faults add boundaries.
        const span = Math.max(1, Math.ceil(clean.boundaries.length * 1.5));
        for (let run = 0; run < (this.options.runs ?? 200); run++) {
          const indices = new Set<number>();
          const wanted = 1 + random.below(maxFaults);
          while (indices.size < Math.min(wanted, span)) indices.add(random.below(span));
          if (record(await runScenario(this.scenario, randomPlan(indices, random, allowed), this.settings))) break;
        }
      }
    }
    return {
      scenario: this.scenario.name,
      mode,
      depth,
      seed,
      boundaries: clean.boundaries.length,
      explored,
      faultsInjected: counts,
      crashes,
      durationMs: Math.round(performance.now() - started),
      violation,
    };
  }
}

/** One schedule per (boundary from `from` on, fault that fits it) of a run. */
export function exhaustiveSchedules(boundaries: readonly Boundary[], allowed: ReadonlySet<FaultKind>, from = 0): Schedule[] {
  return boundaries.filter((b) => b.index >= from).flatMap((b) => (FAULTS_AT[b.kind] as readonly FaultKind[]).filter((k) => allowed.has(k)).map((kind) => [{ kind, at: b.index }]));
}

function violationOf(result: RunResult): Violation | null {
  if (result.failures.length === 0) return null;
  const faults = new Map(result.injected.map((f) => [f.at, f.kind]));
  return {
    schedule: formatSchedule(result.injected),
    failures: result.failures,
    trace: result.boundaries.map((b) => `#${b.index} ${b.label}${faults.has(b.index) ? `   <== ${faults.get(b.index)}` : ''}`),
  };
}

/** A violation as a reader wants it in a test failure: what broke, the schedule to replay, the trace. */
export function formatViolation(violation: Violation): string {
  return [
    `schedule ${violation.schedule} breaks:`,
    ...violation.failures.map((f) => `  - ${f.invariant}: ${f.message}`),
    `replay it with explorer.replay('${violation.schedule}')`,
    'trace:',
    ...violation.trace.map((line) => `  ${line}`),
  ].join('\n');
}

/** One line of figures for logs and reports. */
export function formatReport(report: ExplorationReport): string {
  const faults = Object.entries(report.faultsInjected)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return (
    `${report.scenario}: ${report.explored} schedules (${report.mode}, ${report.mode === 'sampled' ? 'up to ' : ''}${report.depth} fault(s) per run` +
    `${report.seed !== null ? `, seed ${report.seed}` : ''}) over ` +
    `${report.boundaries} boundaries in ${report.durationMs} ms; faults: ${faults || 'none'}; crashes ${report.crashes}; ` +
    (report.violation ? `VIOLATION with schedule ${report.violation.schedule}` : 'no violation')
  );
}
