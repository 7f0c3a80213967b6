import Database from 'better-sqlite3';
import { join } from 'node:path';

/**
 * Makes one table of a running demo's SQLite database refuse writes, the way a full disk or a
 * broken migration would: a trigger that aborts. The demo's real code then fails, retries and
 * gives up (STUCK sagas, dead letters) exactly as it would in production. `thaw` drops it.
 */
export function freezeTable(dataDir: string, service: string, table: string, when: 'INSERT' | 'UPDATE' = 'UPDATE'): { thaw(): void } {
  const db = new Database(join(dataDir, `${service}.db`));
  db.pragma('busy_timeout = 5000');
  const found = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ?`).get(`%${table}`) as { name: string } | undefined;
  if (!found) throw new Error(`no table ${table} in ${service}.db`);
  const trigger = `ops_test_freeze_${table}_${when.toLowerCase()}`;
  db.exec(`CREATE TRIGGER ${trigger} BEFORE ${when} ON "${found.name}" BEGIN SELECT RAISE(ABORT, '${table} refuses writes (frozen by the test)'); END`);
  return {
    thaw() {
      db.exec(`DROP TRIGGER IF EXISTS ${trigger}`);
      db.close();
    },
  };
}
