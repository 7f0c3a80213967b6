import { faultFits, FAULTS_AT, type BoundaryKind, type FaultKind, type Schedule } from './fault-schedule.js';
import type { SeededRandom } from './seeded-random.js';

/** Decides, as a run reaches each boundary, whether a fault strikes there. */
export interface FaultPlan {
  faultAt(index: number, boundary: BoundaryKind): FaultKind | undefined;
}

/** Exactly the faults of a printed schedule. */
export function planOf(schedule: Schedule): FaultPlan {
  const byIndex = new Map(schedule.map((f) => [f.at, f.kind]));
  return {
    faultAt(index, boundary) {
      const kind = byIndex.get(index);
      return kind && faultFits(kind, boundary) ? kind : undefined;
    },
  };
}

/** Faults at the given boundaries, each of a kind drawn from the seeded generator when reached. */
export function randomPlan(indices: ReadonlySet<number>, random: SeededRandom, allowed: ReadonlySet<FaultKind>): FaultPlan {
  return {
    faultAt(index, boundary) {
      if (!indices.has(index)) return undefined;
      const kinds = (FAULTS_AT[boundary] as readonly FaultKind[]).filter((k) => allowed.has(k));
      return kinds.length > 0 ? random.pick(kinds) : undefined;
    },
  };
}
