import { runMigrations, type Migration, type SqlDialect, type SqlExecutor, type SqlStore } from '@concord/core';

/** Each service's own tables, as versioned migrations rendered for its database. */
export async function migrateService(store: SqlStore, component: string, migrations: readonly Migration[]): Promise<void> {
  await store.migrate();
  await runMigrations(store.driver, component, migrations);
}

export const sequencesTable: Migration['up'] = (d) => [
  `CREATE TABLE ${d.table('example_sequences')} (name ${d.types.key} NOT NULL PRIMARY KEY, next_value ${d.types.bigint} NOT NULL)`,
];

/** Reserves `count` ids of `name` and returns the last one; portable across SQLite, PostgreSQL and MySQL. */
export async function reserveIds(sql: SqlExecutor, d: SqlDialect, name: string, count: number): Promise<number> {
  const table = d.table('example_sequences');
  // Insert-or-ignore first: two processes creating the counter at once must not collide.
  await sql.execute(d.insertIgnore(table, ['name', 'next_value']), [name, 0]);
  await sql.execute(`UPDATE ${table} SET next_value = next_value + ? WHERE name = ?`, [count, name]);
  const rows = await sql.query<{ next_value: number | string }>(`SELECT next_value FROM ${table} WHERE name = ?`, [name]);
  return Number(rows[0]!.next_value);
}

/**
 * Hands out integer ids (JSON integers, as the API promises) from blocks reserved in a short
 * transaction of their own (the hi/lo scheme). Reserving inside each business transaction
 * would make the counter row a lock every order waits on; a block of ids costs one round
 * trip per `blockSize` orders. Ids are unique, increasing per process, and may have gaps.
 */
export class IdAllocator {
  private next = 0;
  private last = -1;
  private refill: Promise<void> | undefined;

  constructor(
    private readonly store: SqlStore,
    private readonly name: string,
    private readonly blockSize = 50,
  ) {}

  async nextId(): Promise<number> {
    while (this.next > this.last) {
      this.refill ??= this.store
        .transaction(async (tx) => {
          const last = await reserveIds(tx.sql, this.store.driver.dialect, this.name, this.blockSize);
          this.next = last - this.blockSize + 1;
          this.last = last;
        })
        .finally(() => (this.refill = undefined));
      await this.refill;
    }
    return this.next++;
  }
}
