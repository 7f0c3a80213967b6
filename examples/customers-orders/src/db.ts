import { runMigrations, type Migration, type SqlExecutor, type SqlStore } from '@concord/core';

/** Each service's own tables, as versioned migrations rendered for its database. */
export async function migrateService(store: SqlStore, component: string, migrations: readonly Migration[]): Promise<void> {
  await store.migrate();
  await runMigrations(store.driver, component, migrations);
}

export const sequencesTable: Migration['up'] = (d) => [
  `CREATE TABLE ${d.table('example_sequences')} (name ${d.types.key} NOT NULL PRIMARY KEY, next_value ${d.types.bigint} NOT NULL)`,
];

/**
 * Allocates the next integer id of `name` inside the caller's transaction: portable across
 * SQLite, PostgreSQL and MySQL, and ids are JSON integers as the API promises.
 */
export async function nextId(sql: SqlExecutor, table: string, name: string): Promise<number> {
  const changed = await sql.execute(`UPDATE ${table} SET next_value = next_value + 1 WHERE name = ?`, [name]);
  if (changed === 0) await sql.execute(`INSERT INTO ${table} (name, next_value) VALUES (?, 1)`, [name]);
  const rows = await sql.query<{ next_value: number | string }>(`SELECT next_value FROM ${table} WHERE name = ?`, [name]);
  return Number(rows[0]!.next_value);
}
