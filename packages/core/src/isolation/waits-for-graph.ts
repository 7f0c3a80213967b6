/** One edge of the waits-for graph: `waiter` waits for `resource`, which `holder` holds. */
export interface WaitEdge {
  /** The service whose database holds the wait (and the lock). */
  readonly service: string;
  readonly waitId: number;
  readonly resource: string;
  readonly waiter: string;
  readonly waiterStartedAt: number;
  readonly holder: string;
  readonly holderStartedAt: number;
  readonly waitingSince: number;
}

/** A cycle of sagas, each waiting for the next; `edges[i].holder === edges[i + 1].waiter`. */
export interface WaitCycle {
  readonly edges: readonly WaitEdge[];
  /** The youngest saga of the cycle (latest start, then highest id): it is failed to break it. */
  readonly victim: WaitEdge;
}

/**
 * Finds the cycles of a waits-for graph (sagas as nodes, one edge per wait). Each saga waits
 * for at most a few resources, so a depth-first walk from every node is plenty; each cycle is
 * reported once, starting from its smallest saga id.
 */
export function findWaitCycles(edges: readonly WaitEdge[]): WaitCycle[] {
  const out = new Map<string, WaitEdge[]>();
  for (const e of edges) {
    if (e.waiter === e.holder) continue;
    const list = out.get(e.waiter) ?? [];
    list.push(e);
    out.set(e.waiter, list);
  }
  const cycles: WaitCycle[] = [];
  const seen = new Set<string>();
  const starts = [...out.keys()].sort();
  for (const start of starts) {
    const path: WaitEdge[] = [];
    const onPath = new Set<string>([start]);
    const walk = (node: string): void => {
      for (const edge of out.get(node) ?? []) {
        if (edge.holder === start) {
          const cycle = [...path, edge];
          const key = cycle
            .map((e) => `${e.service}#${e.waitId}`)
            .sort()
            .join(',');
          if (!seen.has(key)) {
            seen.add(key);
            cycles.push({ edges: cycle, victim: youngest(cycle) });
          }
        } else if (edge.holder > start && !onPath.has(edge.holder)) {
          // Only nodes above `start`: a cycle through a smaller node was found from there.
          onPath.add(edge.holder);
          path.push(edge);
          walk(edge.holder);
          path.pop();
          onPath.delete(edge.holder);
        }
      }
    };
    walk(start);
  }
  return cycles;
}

function youngest(cycle: readonly WaitEdge[]): WaitEdge {
  return cycle.reduce((a, b) =>
    b.waiterStartedAt > a.waiterStartedAt || (b.waiterStartedAt === a.waiterStartedAt && b.waiter > a.waiter)
      ? b
      : a,
  );
}
