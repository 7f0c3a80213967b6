import type { PoolConnection } from 'mysql2/promise';

/** The transaction handle Concord's MySQL store gives user code: the mysql2 connection itself. */
export type Conn = PoolConnection;

/** Rows of a SELECT on the transaction's own connection. */
export async function selectRows<T>(conn: Conn, sql: string, params: unknown[] = []): Promise<T[]> {
  const [rows] = await conn.query(sql, params);
  return rows as T[];
}

/** INSERT/UPDATE/DELETE: the insert id and the rows changed. */
export async function execute(conn: Conn, sql: string, params: unknown[] = []): Promise<{ insertId: number; affectedRows: number }> {
  const [result] = await conn.query(sql, params);
  const header = result as { insertId?: number; affectedRows?: number };
  return { insertId: Number(header.insertId ?? 0), affectedRows: Number(header.affectedRows ?? 0) };
}

/** MySQL's SUM and BIGINT come back as strings or numbers depending on the pool: always a number here. */
export const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));
