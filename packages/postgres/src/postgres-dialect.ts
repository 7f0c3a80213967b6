import { InvalidArgumentError, type SqlDialect } from '@concord/core';

/** Quotes a PostgreSQL identifier (schema, table, channel). */
export function quoteIdent(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Refuses schema names that would need quoting, so every generated name stays readable. */
export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new InvalidArgumentError(`schema "${schema}" must be 1-63 letters, digits or '_' and not start with a digit`);
  }
}

/**
 * PostgreSQL's SQL differences. Concord's tables live in their own schema (default `concord`),
 * so core's names stay short (`concord.outbox`) and never collide with the service's tables.
 */
export function postgresDialect(schema = 'concord'): SqlDialect {
  assertSchemaName(schema);
  return {
    name: 'postgres',
    capabilities: { supportsSkipLocked: true, supportsNotify: true, supportsLogTailing: true, pipelinesStatements: true },
    types: {
      // IDENTITY values are never reused after purges, so outbox positions stay monotonic.
      autoId: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
      key: 'TEXT',
      text: 'TEXT',
      int: 'INTEGER',
      bigint: 'BIGINT',
    },
    table: (name) => `${schema}.${name}`,
    quote: quoteIdent,
    insertIgnore: (table, columns, rows = 1) => {
      const one = `(${columns.map(() => '?').join(', ')})`;
      return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${new Array(rows).fill(one).join(', ')} ON CONFLICT DO NOTHING`;
    },
    forUpdate: ' FOR UPDATE',
    partialIndexWhere: (condition) => ` WHERE ${condition}`,
    // The index lands in the table's schema, so two schemas in one database do not collide.
    createIndex: (name, table, columns, where) =>
      `CREATE INDEX IF NOT EXISTS ${name} ON ${table} (${columns})${where ? ` WHERE ${where}` : ''}`,
    // 23505 unique_violation; `pg` errors name the schema and the table.
    uniqueViolationTable: (error) => {
      const e = error as { code?: unknown; schema?: unknown; table?: unknown } | null;
      return e?.code === '23505' && typeof e.schema === 'string' && typeof e.table === 'string' ? `${e.schema}.${e.table}` : undefined;
    },
  };
}

/** The dialect for the default `concord` schema. */
export const defaultPostgresDialect: SqlDialect = postgresDialect();
