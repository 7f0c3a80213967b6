import { uniqueName } from '@concord/core/testing';
import { dropPostgresDatabase, ensurePostgresDatabase, withDatabase } from '../postgres-database.js';

/** The local test server (trust auth); override with CONCORD_TEST_POSTGRES_URL. */
export const testServerUrl = process.env.CONCORD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  /** Drops the replication slots left in it, then the database. */
  drop(): Promise<void>;
}

/** A fresh database for one test file, named uniquely so parallel files never meet. */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const name = uniqueName(`concord_${prefix}`).toLowerCase();
  const url = withDatabase(testServerUrl, name);
  await ensurePostgresDatabase(url);
  return {
    url,
    name,
    drop: async () => {
      const pg = (await import('pg')).default;
      const admin = new pg.Client({ connectionString: testServerUrl });
      admin.on('error', () => undefined);
      await admin.connect();
      try {
        // A database with a logical slot cannot be dropped; the slot's walsender must go first.
        await admin.query(
          `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = $1 AND active_pid IS NOT NULL`,
          [name],
        );
        for (let i = 0; i < 50; i++) {
          const slots = await admin.query<{ slot_name: string; active: boolean }>(
            'SELECT slot_name, active FROM pg_replication_slots WHERE database = $1',
            [name],
          );
          if (slots.rows.length === 0) break;
          for (const s of slots.rows) {
            if (!s.active) await admin.query('SELECT pg_drop_replication_slot($1)', [s.slot_name]).catch(() => undefined);
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        await admin.end().catch(() => undefined);
      }
      await dropPostgresDatabase(url);
    },
  };
}
