import type { SqlDialect } from '@concord/core';

export type MysqlFlavor = 'mariadb' | 'mysql';

/** Backtick-quotes an identifier (table, column, database). */
export function quoteIdentifier(identifier: string): string {
  return `\`${identifier.replaceAll('`', '``')}\``;
}

/** The unquoted name of a Concord table, as it appears in the binary log and INFORMATION_SCHEMA. */
export function concordTableName(name: string): string {
  return `concord_${name}`;
}

// Binary collation: ids, channels and consumer names differ by case, and utf8mb4 keeps
// 191 characters (764 bytes) inside every InnoDB index limit, even on old row formats.
const KEY = 'VARCHAR(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin';
const TEXT = 'LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin';

/**
 * The MySQL/MariaDB dialect. Concord tables live in the connection's database as
 * `concord_<name>`, so each service's database holds its own.
 */
export function createMysqlDialect(flavor: MysqlFlavor = 'mariadb'): SqlDialect {
  return {
    name: 'mysql',
    capabilities: {
      // FOR UPDATE SKIP LOCKED: MariaDB 10.6+, MySQL 8.0+.
      supportsSkipLocked: true,
      supportsNotify: false,
      supportsLogTailing: true,
      // Writes nobody reads ride along (multi-statement queries), but every read waits.
      pipelinesStatements: false,
    },
    types: {
      autoId: 'BIGINT AUTO_INCREMENT PRIMARY KEY',
      key: KEY,
      text: TEXT,
      int: 'INT',
      bigint: 'BIGINT',
    },
    table: (name) => quoteIdentifier(concordTableName(name)),
    quote: quoteIdentifier,
    insertIgnore: (table, columns, rows = 1) => {
      const one = `(${columns.map(() => '?').join(', ')})`;
      // A no-op update of the first key column, rather than INSERT IGNORE: IGNORE would also
      // turn truncation, NULL and foreign-key errors into warnings. The driver's connections
      // report changed rows, so a duplicate counts 0 and a new row 1.
      const first = columns[0]!;
      return (
        `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${new Array(rows).fill(one).join(', ')} ` +
        `ON DUPLICATE KEY UPDATE ${first} = ${first}`
      );
    },
    forUpdate: ' FOR UPDATE',
    partialIndexWhere: () => '',
    // MySQL 8 has no CREATE INDEX IF NOT EXISTS: the driver's migration executor treats
    // "duplicate key name" as done there instead.
    createIndex: (name, table, columns) =>
      `CREATE INDEX ${flavor === 'mariadb' ? 'IF NOT EXISTS ' : ''}${quoteIdentifier(name)} ON ${table} (${columns})`,
  };
}

/** The dialect for MariaDB 10.6+ (the default; the driver picks the flavour from the server). */
export const mysqlDialect: SqlDialect = createMysqlDialect('mariadb');
