import type { BoundaryKind, FaultKind } from './fault-schedule.js';
import { SimulatedCrash } from './simulated-crash.js';

/**
 * What the fault-injecting ports ask the run: is my process still alive, and does a fault
 * strike at this boundary? One per run; the ports of each incarnation hold its number.
 */
export class RunControl {
  /** Bumped by every crash: ports of an older incarnation belong to a dead process. */
  incarnation = 0;
  /** Boundaries count only while armed (not while services start or after the run). */
  armed = false;
  /** What the run is doing now, for boundary labels. */
  activity = 'start';

  constructor(private readonly onBoundary: (kind: BoundaryKind, label: string) => FaultKind | undefined) {}

  /** Throws if the caller's process has crashed. */
  assertAlive(incarnation: number, what: string): void {
    if (incarnation !== this.incarnation) throw new SimulatedCrash(`${what} after its process crashed`);
  }

  /** Commits reached, armed or not: tells the explorer whether firing timers changed anything. */
  commits = 0;

  reach(kind: BoundaryKind, where: string): FaultKind | undefined {
    if (kind === 'commit') this.commits++;
    if (!this.armed) return undefined;
    // A delivery is the activity itself; commits and publishes say what they were part of.
    return this.onBoundary(kind, kind === 'deliver' ? `${kind} ${where}` : `${kind} ${where} (${this.activity})`);
  }

  /** Kills the current incarnation; the returned error is for the caller to throw. */
  crash(where: string): SimulatedCrash {
    this.incarnation++;
    return new SimulatedCrash(where);
  }
}
