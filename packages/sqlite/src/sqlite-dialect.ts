import type { SqlDialect } from '@concord/core';

export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  capabilities: { supportsSkipLocked: false, supportsNotify: false, supportsLogTailing: false, pipelinesStatements: false },
  types: {
    // AUTOINCREMENT: positions never reused after purges, so they stay monotonic.
    autoId: 'INTEGER PRIMARY KEY AUTOINCREMENT',
    key: 'TEXT',
    text: 'TEXT',
    int: 'INTEGER',
    bigint: 'INTEGER',
  },
  table: (name) => `concord_${name}`,
  quote: (identifier) => `"${identifier.replaceAll('"', '""')}"`,
  insertIgnore: (table, columns, rows = 1) => {
    const one = `(${columns.map(() => '?').join(', ')})`;
    return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${new Array(rows).fill(one).join(', ')} ON CONFLICT DO NOTHING`;
  },
  // SQLite has one writer per database: BEGIN IMMEDIATE already excludes the others.
  forUpdate: '',
  partialIndexWhere: (condition) => ` WHERE ${condition}`,
  createIndex: (name, table, columns, where) =>
    `CREATE INDEX IF NOT EXISTS ${name} ON ${table} (${columns})${where ? ` WHERE ${where}` : ''}`,
};
