import { InvalidArgumentError, type Store } from '@concord/core';

/** The databases the examples run on; `Store.dialect` names them. */
export type ServiceDatabase = 'sqlite' | 'postgres' | 'mysql';

/**
 * The few SQL differences the examples' own tables meet on SQLite, PostgreSQL and MySQL. It is
 * the service's, not Concord's: Concord's dialect names Concord's tables, and a service that runs
 * on one database would write its SQL for that one and need none of this.
 */
export interface ServiceSql {
  readonly database: ServiceDatabase;
  /** The service's schema: a PostgreSQL schema, a name prefix of its version table elsewhere. */
  readonly schema: string;
  /** A table of the service: `<schema>.<name>` on PostgreSQL, `<name>` in the database on SQLite and MySQL. */
  table(name: string): string;
  readonly types: { readonly key: string; readonly text: string; readonly int: string; readonly bigint: string };
  /** An INSERT of one row that does nothing when its primary key exists. */
  insertIgnore(table: string, columns: readonly string[]): string;
  /** Row-locks what a SELECT reads; '' on SQLite, whose transactions lock the whole database. */
  readonly forUpdate: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;

// Binary collation on MySQL: ids differ by case; 191 utf8mb4 characters fit every InnoDB index.
const TYPES: Record<ServiceDatabase, ServiceSql['types']> = {
  sqlite: { key: 'TEXT', text: 'TEXT', int: 'INTEGER', bigint: 'INTEGER' },
  postgres: { key: 'TEXT', text: 'TEXT', int: 'INTEGER', bigint: 'BIGINT' },
  mysql: {
    key: 'VARCHAR(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
    text: 'LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
    int: 'INT',
    bigint: 'BIGINT',
  },
};

/** The SQL of `schema` on the database of `store`. */
export function serviceSql(store: Pick<Store, 'dialect'>, schema: string): ServiceSql {
  const database = store.dialect;
  if (database !== 'sqlite' && database !== 'postgres' && database !== 'mysql') {
    throw new InvalidArgumentError(`the examples run on sqlite, postgres or mysql, not "${database}"`);
  }
  if (!SCHEMA_NAME.test(schema)) throw new InvalidArgumentError(`schema "${schema}" must be lower-case letters, digits or '_'`);
  const values = (columns: readonly string[]) => `(${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
  return {
    database,
    schema,
    table: (name) => (database === 'postgres' ? `${schema}.${name}` : name),
    types: TYPES[database],
    insertIgnore: (table, columns) =>
      database === 'mysql'
        ? // A no-op update rather than INSERT IGNORE, which would also silence truncation and NULL errors.
          `INSERT INTO ${table} ${values(columns)} ON DUPLICATE KEY UPDATE ${columns[0]} = ${columns[0]}`
        : `INSERT INTO ${table} ${values(columns)} ON CONFLICT DO NOTHING`,
    forUpdate: database === 'sqlite' ? '' : ' FOR UPDATE',
  };
}
