import type { SqlDialect, SqlExecutor } from '../sql/sql-driver.js';
import { SagaVersionNotRegisteredError, type SagaVersionRegistry, type UnregisteredSagaVersion } from './saga-versions.js';

/** How many saga ids the refusal lists per missing version; the count says how many there are. */
const IDS_LISTED = 20;

/**
 * Refuses to run an orchestrator while unfinished instances of its saga types (RUNNING,
 * COMPENSATING, or STUCK, which a person may retry) recorded a definition version it does not
 * have. Only the orchestrator's own types are looked at: one database may hold the sagas of
 * several orchestrators.
 */
export async function assertInFlightVersionsRegistered(
  exec: SqlExecutor,
  d: SqlDialect,
  orchestrator: string,
  registry: SagaVersionRegistry,
): Promise<void> {
  const types = registry.types();
  if (types.length === 0) return;
  const table = d.table('saga_instances');
  const unfinished = `status IN ('RUNNING', 'COMPENSATING', 'STUCK') AND saga_type IN (${types.map(() => '?').join(', ')})`;
  const groups = await exec.query<{ saga_type: string; definition_version: string | null; n: number | string }>(
    `SELECT saga_type, definition_version, COUNT(*) AS n FROM ${table} WHERE ${unfinished} GROUP BY saga_type, definition_version`,
    types,
  );
  const missing = groups.filter((g) => !registry.has(g.saga_type, g.definition_version ?? null));
  if (missing.length === 0) return;
  const unregistered: UnregisteredSagaVersion[] = [];
  for (const g of missing) {
    const version = g.definition_version ?? null;
    const rows = await exec.query<{ saga_id: string }>(
      `SELECT saga_id FROM ${table} WHERE status IN ('RUNNING', 'COMPENSATING', 'STUCK') AND saga_type = ? AND ` +
        `${version === null ? 'definition_version IS NULL' : 'definition_version = ?'} ORDER BY created_at, saga_id LIMIT ?`,
      [g.saga_type, ...(version === null ? [] : [version]), IDS_LISTED],
    );
    unregistered.push({ sagaType: g.saga_type, version, count: Number(g.n), sagaIds: rows.map((r) => r.saga_id) });
  }
  throw new SagaVersionNotRegisteredError(orchestrator, unregistered);
}
