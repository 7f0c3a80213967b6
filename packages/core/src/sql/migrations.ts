import { ConcordError, ConcordErrorCode } from '../errors.js';
import type { SqlDialect, SqlDriver, SqlExecutor } from './sql-driver.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** DDL statements, rendered for the dialect. */
  readonly up: (d: SqlDialect) => string[];
}

async function ensureLedger(exec: SqlExecutor, d: SqlDialect): Promise<void> {
  await exec.execute(
    `CREATE TABLE IF NOT EXISTS ${d.table('migrations')} (` +
      `component ${d.types.key} NOT NULL, version ${d.types.int} NOT NULL, name ${d.types.key} NOT NULL, ` +
      `applied_at ${d.types.bigint} NOT NULL, PRIMARY KEY (component, version))`,
  );
}

/**
 * Applies each migration of `component` not yet recorded, in version order, under the
 * driver's migration lock so concurrent starts of the same service do not race.
 */
export async function runMigrations(
  driver: SqlDriver,
  component: string,
  migrations: readonly Migration[],
): Promise<number[]> {
  const d = driver.dialect;
  return driver.withMigrationLock(async (exec) => {
    await ensureLedger(exec, d);
    const rows = await exec.query<{ version: number | string }>(
      `SELECT version FROM ${d.table('migrations')} WHERE component = ?`,
      [component],
    );
    const applied = new Set(rows.map((r) => Number(r.version)));
    const done: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      try {
        for (const statement of m.up(d)) await exec.execute(statement);
        await exec.execute(
          `INSERT INTO ${d.table('migrations')} (component, version, name, applied_at) VALUES (?, ?, ?, ?)`,
          [component, m.version, m.name, Date.now()],
        );
      } catch (cause) {
        throw new ConcordError(
          ConcordErrorCode.MIGRATION_FAILED,
          `migration ${component}#${m.version} (${m.name}) failed on ${d.name}: ${(cause as Error).message}`,
          { cause },
        );
      }
      done.push(m.version);
    }
    return done;
  });
}

/** The versions recorded for a component, for schema checks in tests and in `concord doctor`. */
export async function appliedMigrations(driver: SqlDriver, component: string): Promise<number[]> {
  const d = driver.dialect;
  return driver.run(async (exec) => {
    await ensureLedger(exec, d);
    const rows = await exec.query<{ version: number | string }>(
      `SELECT version FROM ${d.table('migrations')} WHERE component = ? ORDER BY version`,
      [component],
    );
    return rows.map((r) => Number(r.version));
  });
}

/**
 * Applies the migrations of a store or broker an adapter has just opened. When they fail,
 * `close` releases what was opened (its pool or file) before the error goes on, so a failed
 * `open<X>Store` / `open<X>Broker` leaks no connection.
 */
export async function migrateOrClose<T extends { migrate(): Promise<void> }>(opened: T, close: () => Promise<void>): Promise<T> {
  try {
    await opened.migrate();
  } catch (error) {
    await close();
    throw error;
  }
  return opened;
}
