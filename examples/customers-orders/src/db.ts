import type { SqlExecutor, Store } from '@concord/core';
import { migrateServiceSchema, type ServiceSchema, type ServiceSql } from './service-schema/index.js';

/** Concord's tables (the store's migrations), then the service's own, in its own schema. */
export async function migrateService(store: Store, schema: ServiceSchema): Promise<void> {
  await store.migrate();
  await migrateServiceSchema(store, schema);
}

export const sequencesTable = (sql: ServiceSql): string[] => [
  `CREATE TABLE ${sql.table('example_sequences')} (name ${sql.types.key} NOT NULL PRIMARY KEY, next_value ${sql.types.bigint} NOT NULL)`,
];

/** Reserves `count` ids of `name` and returns the last one; portable across SQLite, PostgreSQL and MySQL. */
export async function reserveIds(exec: SqlExecutor, sql: ServiceSql, name: string, count: number): Promise<number> {
  const table = sql.table('example_sequences');
  // Insert-or-ignore first: two processes creating the counter at once must not collide.
  await exec.execute(sql.insertIgnore(table, ['name', 'next_value']), [name, 0]);
  await exec.execute(`UPDATE ${table} SET next_value = next_value + ? WHERE name = ?`, [count, name]);
  const rows = await exec.query<{ next_value: number | string }>(`SELECT next_value FROM ${table} WHERE name = ?`, [name]);
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
    private readonly store: Store,
    private readonly sql: ServiceSql,
    private readonly name: string,
    private readonly blockSize = 50,
  ) {}

  async nextId(): Promise<number> {
    while (this.next > this.last) {
      this.refill ??= this.store
        .transaction(async (tx) => {
          const last = await reserveIds(tx.sql, this.sql, this.name, this.blockSize);
          this.next = last - this.blockSize + 1;
          this.last = last;
        })
        .finally(() => (this.refill = undefined));
      await this.refill;
    }
    return this.next++;
  }
}
