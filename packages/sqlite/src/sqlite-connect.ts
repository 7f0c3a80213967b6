import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { SqliteDriver, type SqliteDriverOptions } from './sqlite-driver.js';

/** Opens the driver on `options.filename`, creating the file's directory when missing. */
export function openSqliteDriver(options: SqliteDriverOptions): SqliteDriver {
  const { filename } = options;
  if (filename !== ':memory:' && !filename.startsWith('file:')) mkdirSync(dirname(filename), { recursive: true });
  return new SqliteDriver(options);
}
