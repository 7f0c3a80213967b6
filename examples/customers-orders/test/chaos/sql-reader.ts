/**
 * Read-only SQL access to one service's database of the demo (PostgreSQL or MariaDB), for the
 * invariant checks: the campaign reads the sources of truth directly, not through the API.
 */
import mysql from 'mysql2/promise';
import pg from 'pg';
import { serviceSql, type ServiceSchema } from '../../src/service-schema/index.js';

export interface SqlReader {
  /** A Concord table (`outbox`, `saga_instances`, …). */
  table(name: string): string;
  /** A table of the service's own schema (`example_orders`, …), named as the service names it. */
  ownTable(schema: ServiceSchema, name: string): string;
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  close(): Promise<void>;
}

/** `baseUrl` is the demo's CONCORD_DATABASE_URL; `service` picks `<base>_<service>`. */
export async function openReader(baseUrl: string, service: string): Promise<SqlReader> {
  const url = new URL(baseUrl);
  url.pathname = `${url.pathname}_${service.replaceAll('-', '_')}`;
  if (url.protocol.startsWith('postgres')) {
    const client = new pg.Client({ connectionString: url.toString() });
    client.on('error', () => undefined); // a restart of the server between checks: the next query fails instead
    await client.connect();
    return {
      // Concord's tables live in the `concord` schema; the demo's in schemas of their own.
      table: (name) => `concord.${name}`,
      ownTable: (schema, name) => serviceSql({ dialect: 'postgres' }, schema.name).table(name),
      rows: async <T>(sql: string) => (await client.query(sql)).rows as T[],
      close: () => client.end(),
    };
  }
  const connection = await mysql.createConnection({ uri: url.toString().replace(/^mariadb:/, 'mysql:'), supportBigNumbers: true });
  connection.on('error', () => undefined);
  return {
    table: (name) => `concord_${name}`,
    ownTable: (schema, name) => serviceSql({ dialect: 'mysql' }, schema.name).table(name),
    rows: async <T>(sql: string) => (await connection.query(sql))[0] as T[],
    close: () => connection.end(),
  };
}
