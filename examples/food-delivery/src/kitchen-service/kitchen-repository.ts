import type { Migration, SqlDialect, SqlExecutor } from '@concord/core';
import { sequencesTable } from '@concord/example-customers-orders/db';

export const kitchenMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'kitchens',
    up: (d) => [
      ...sequencesTable(d),
      `CREATE TABLE ${d.table('example_kitchens')} (id ${d.types.bigint} NOT NULL PRIMARY KEY, name ${d.types.key} NOT NULL)`,
    ],
  },
];

/** Kitchens by id; their packets are counted by the reservation pool `kitchen-<id>`. */
export class KitchenRepository {
  constructor(private readonly d: SqlDialect) {}

  async insert(sql: SqlExecutor, id: number, name: string): Promise<void> {
    await sql.execute(`INSERT INTO ${this.d.table('example_kitchens')} (id, name) VALUES (?, ?)`, [id, name]);
  }

  async find(sql: SqlExecutor, id: number): Promise<{ id: number; name: string } | undefined> {
    const rows = await sql.query<{ id: number | string; name: string }>(`SELECT id, name FROM ${this.d.table('example_kitchens')} WHERE id = ?`, [id]);
    return rows[0] ? { id: Number(rows[0].id), name: rows[0].name } : undefined;
  }
}
