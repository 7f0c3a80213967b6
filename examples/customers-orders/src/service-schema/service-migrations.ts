import { ConcordError, ConcordErrorCode, type SqlExecutor, type Store } from '@concord/core';
import { serviceSql, type ServiceDatabase, type ServiceSql } from './service-sql.js';

/** One version of a service's tables: statements rendered for its database, run once. */
export interface ServiceMigration {
  readonly version: number;
  readonly name: string;
  readonly up: (sql: ServiceSql) => string[];
}

/** A service's own tables: their schema, their migrations, and their own version table. */
export interface ServiceSchema {
  /** A PostgreSQL schema of the service's own (lower-case letters, digits, '_'). */
  readonly name: string;
  readonly migrations: readonly ServiceMigration[];
  /**
   * Tables that earlier versions of the examples created as version 1 inside Concord's schema
   * (`concord.<table>` on PostgreSQL, `concord_<table>` on SQLite and MySQL). A database that
   * still has them there gets them moved into this schema, recorded as version 1, with their
   * rows: existing demo databases go on working (docs/decisions/038-examples-own-schema.md).
   */
  readonly formerlyInConcord?: readonly string[];
}

export class ServiceMigrationError extends ConcordError {
  constructor(schema: string, version: number, name: string, cause: unknown) {
    super(ConcordErrorCode.MIGRATION_FAILED, `migration ${schema}#${version} (${name}) failed: ${(cause as Error).message}`, { cause });
    this.name = 'ServiceMigrationError';
  }
}

/** What the runner does differently per database: serializing starts, and finding old tables. */
interface RunnerDialect {
  /** Makes concurrent starts of the same service wait for each other. */
  lock(exec: SqlExecutor, schema: string): Promise<void>;
  unlock(exec: SqlExecutor, schema: string): Promise<void>;
  /** Creates the schema itself where the database has schemas. */
  prepare(exec: SqlExecutor, schema: string): Promise<void>;
  /** The version table: `<schema>.migrations`, or `<schema>_migrations` beside the service's tables. */
  ledger(schema: string): string;
  /** Whether an earlier version of the examples left `table` in Concord's schema. */
  inConcord(exec: SqlExecutor, table: string): Promise<boolean>;
  /** Moves it into the service's schema under its own name, rows and indexes included. */
  moveFromConcord(table: string, schema: string): string;
}

const exists = async (exec: SqlExecutor, sql: string, table: string) => (await exec.query(sql, [table])).length > 0;
const mysqlLock = (schema: string) => `migrate-${schema}`;

const databases: Record<ServiceDatabase, RunnerDialect> = {
  // BEGIN IMMEDIATE already holds the database's write lock for the whole transaction.
  sqlite: {
    lock: async () => undefined,
    unlock: async () => undefined,
    prepare: async () => undefined,
    ledger: (schema) => `${schema}_migrations`,
    inConcord: (exec, table) => exists(exec, `SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`, `concord_${table}`),
    moveFromConcord: (table) => `ALTER TABLE concord_${table} RENAME TO ${table}`,
  },
  // A transaction-scoped advisory lock: released by COMMIT or by the connection dying.
  postgres: {
    lock: async (exec, schema) => void (await exec.query('SELECT pg_advisory_xact_lock(hashtext(?))', [`migrate ${schema}`])),
    unlock: async () => undefined,
    // Inside the lock: CREATE SCHEMA IF NOT EXISTS is not safe against a concurrent twin.
    prepare: async (exec, schema) => void (await exec.execute(`CREATE SCHEMA IF NOT EXISTS ${schema}`)),
    ledger: (schema) => `${schema}.migrations`,
    inConcord: (exec, table) =>
      exists(exec, `SELECT 1 FROM information_schema.tables WHERE table_schema = 'concord' AND table_name = ?`, table),
    moveFromConcord: (table, schema) => `ALTER TABLE concord.${table} SET SCHEMA ${schema}`,
  },
  // DDL commits implicitly on MySQL, so the transaction cannot hold a lock across it: a
  // session lock on the transaction's connection does.
  mysql: {
    lock: async (exec, schema) => {
      const rows = await exec.query<{ got: number | string | null }>('SELECT GET_LOCK(?, 60) AS got', [mysqlLock(schema)]);
      if (Number(rows[0]?.got) !== 1) throw new ConcordError(ConcordErrorCode.TIMEOUT, `migration lock of ${schema} not granted within 60 s`);
    },
    unlock: async (exec, schema) => void (await exec.query('SELECT RELEASE_LOCK(?)', [mysqlLock(schema)])),
    prepare: async () => undefined,
    ledger: (schema) => `${schema}_migrations`,
    inConcord: (exec, table) =>
      exists(exec, 'SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?', `concord_${table}`),
    moveFromConcord: (table) => `RENAME TABLE concord_${table} TO ${table}`,
  },
};

/**
 * Brings the service's own tables to the newest version, in one transaction of the store as
 * any application code would run it, with its own version table: Concord's migrations (run by
 * `store.migrate()`) and these know nothing of each other. Safe to call from many processes.
 * A service that already uses a migration tool keeps using it instead.
 */
export async function migrateServiceSchema(store: Store, schema: ServiceSchema): Promise<void> {
  const sql = serviceSql(store, schema.name);
  const db = databases[sql.database];
  const ledger = db.ledger(schema.name);
  await store.transaction(async (tx) => {
    const exec = tx.sql;
    await db.lock(exec, schema.name);
    try {
      await db.prepare(exec, schema.name);
      await exec.execute(
        `CREATE TABLE IF NOT EXISTS ${ledger} (version ${sql.types.int} NOT NULL PRIMARY KEY, ` +
          `name ${sql.types.key} NOT NULL, applied_at ${sql.types.bigint} NOT NULL)`,
      );
      const rows = await exec.query<{ version: number | string }>(`SELECT version FROM ${ledger}`);
      const applied = new Set(rows.map((r) => Number(r.version)));
      const record = (m: ServiceMigration) =>
        exec.execute(`INSERT INTO ${ledger} (version, name, applied_at) VALUES (?, ?, ?)`, [m.version, m.name, Date.now()]);
      const ordered = [...schema.migrations].sort((a, b) => a.version - b.version);
      const moved = schema.formerlyInConcord ?? [];
      if (applied.size === 0 && ordered[0] && moved[0] !== undefined && (await db.inConcord(exec, moved[0]))) {
        for (const table of moved) await exec.execute(db.moveFromConcord(table, schema.name));
        await record(ordered[0]);
        applied.add(ordered[0].version);
      }
      for (const m of ordered) {
        if (applied.has(m.version)) continue;
        try {
          for (const statement of m.up(sql)) await exec.execute(statement);
          await record(m);
        } catch (cause) {
          throw new ServiceMigrationError(schema.name, m.version, m.name, cause);
        }
      }
    } finally {
      // A connection that broke has lost its session lock already; the first error is the one to see.
      await db.unlock(exec, schema.name).catch(() => undefined);
    }
  });
}
