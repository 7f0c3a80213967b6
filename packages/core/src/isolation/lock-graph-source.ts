import type { SqlStore } from '../sql/sql-store.js';
import type { WaitEdge } from './waits-for-graph.js';

/**
 * One service's part of the waits-for graph: its waits joined with its locks, read in one
 * statement so the part is consistent in itself. The deadlock detector reads every service's
 * part (see docs/decisions/021-waits-for-graph.md).
 */
export interface LockGraphSource {
  readonly service: string;
  read(): Promise<WaitEdge[]>;
}

/** The graph part kept in `store`, under the name `service` (read-only access is enough). */
export function lockGraphSource(service: string, store: SqlStore<unknown>): LockGraphSource {
  const d = store.driver.dialect;
  return {
    service,
    read: () =>
      store.driver.run(async (exec) => {
        const rows = await exec.query<Record<string, unknown>>(
          `SELECT w.id, w.resource, w.saga_id, w.saga_started_at, w.created_at, l.saga_id AS holder, l.saga_started_at AS holder_started_at ` +
            `FROM ${d.table('lock_waits')} w JOIN ${d.table('semantic_locks')} l ON l.resource = w.resource`,
        );
        return rows.map((r) => ({
          service,
          waitId: Number(r.id),
          resource: String(r.resource),
          waiter: String(r.saga_id),
          waiterStartedAt: Number(r.saga_started_at),
          holder: String(r.holder),
          holderStartedAt: Number(r.holder_started_at),
          waitingSince: Number(r.created_at),
        }));
      }),
  };
}
