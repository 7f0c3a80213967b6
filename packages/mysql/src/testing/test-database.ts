import { uniqueName } from '@concord/core/testing';
import { dropMysqlDatabase, ensureMysqlDatabase } from '../mysql-pool.js';

/** The local server (override with CONCORD_MYSQL_URL); tests add a database of their own. */
export const TEST_SERVER_URI = process.env.CONCORD_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

export interface TestDatabase {
  readonly name: string;
  readonly uri: string;
  drop(): Promise<void>;
}

/** A fresh, uniquely named database for one test file; `drop()` removes it. */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const name = uniqueName(`concord_${prefix}`).slice(0, 64);
  const uri = `${TEST_SERVER_URI.replace(/\/+$/, '')}/${name}`;
  await ensureMysqlDatabase(uri);
  return { name, uri, drop: () => dropMysqlDatabase(uri) };
}
