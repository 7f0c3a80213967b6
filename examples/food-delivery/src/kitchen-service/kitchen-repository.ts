import type { SqlExecutor } from '@concord/core';
import { sequencesTable } from '@concord/example-customers-orders/db';
import type { ServiceSchema, ServiceSql } from '@concord/example-customers-orders/service-schema';

/** The kitchen service's own tables, in schema `kitchens`. */
export const kitchenSchema: ServiceSchema = {
  name: 'kitchens',
  migrations: [
    {
      version: 1,
      name: 'kitchens',
      up: (d) => [
        ...sequencesTable(d),
        `CREATE TABLE ${d.table('example_kitchens')} (id ${d.types.bigint} NOT NULL PRIMARY KEY, name ${d.types.key} NOT NULL)`,
      ],
    },
  ],
  formerlyInConcord: ['example_sequences', 'example_kitchens'],
};

/** Kitchens by id; their packets are counted by the reservation pool `kitchen-<id>`. */
export class KitchenRepository {
  constructor(private readonly d: ServiceSql) {}

  async insert(sql: SqlExecutor, id: number, name: string): Promise<void> {
    await sql.execute(`INSERT INTO ${this.d.table('example_kitchens')} (id, name) VALUES (?, ?)`, [id, name]);
  }

  async find(sql: SqlExecutor, id: number): Promise<{ id: number; name: string } | undefined> {
    const rows = await sql.query<{ id: number | string; name: string }>(`SELECT id, name FROM ${this.d.table('example_kitchens')} WHERE id = ?`, [id]);
    return rows[0] ? { id: Number(rows[0].id), name: rows[0].name } : undefined;
  }
}
