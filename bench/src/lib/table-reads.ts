import pg from 'pg';
import { settleStatistics } from './pg-counters.js';

/**
 * Prints, per PostgreSQL database, its commits and the tables and indexes that returned the
 * most rows, each divided by `units` (sagas): where a figure of rows read per saga comes from.
 * Counts cover the databases' whole life, set-up and warm-up included.
 */
export async function printTableReads(serverUrl: string, databases: readonly string[], units: number): Promise<void> {
  await settleStatistics();
  const per = (n: number) => Math.round((n / units) * 10) / 10;
  for (const db of databases) {
    const u = new URL(serverUrl);
    u.pathname = `/${db}`;
    const client = new pg.Client({ connectionString: u.toString() });
    await client.connect();
    try {
      const commits = await client.query<{ xact_commit: string }>('SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()');
      const tables = await client.query<{ relname: string; seq_tup_read: string; idx_tup_fetch: string | null }>(
        'SELECT relname, seq_tup_read, idx_tup_fetch FROM pg_stat_user_tables ORDER BY seq_tup_read + coalesce(idx_tup_fetch, 0) DESC LIMIT 5',
      );
      const indexes = await client.query<{ indexrelname: string; idx_tup_read: string }>(
        'SELECT indexrelname, idx_tup_read FROM pg_stat_user_indexes ORDER BY idx_tup_read DESC LIMIT 5',
      );
      console.log(
        `${db}: ${per(Number(commits.rows[0]?.xact_commit ?? 0))} commits;`,
        tables.rows.map((t) => `${t.relname}: seq ${per(Number(t.seq_tup_read))}, fetched ${per(Number(t.idx_tup_fetch ?? 0))}`).join('; '),
        '| index entries:',
        indexes.rows.map((i) => `${i.indexrelname} ${per(Number(i.idx_tup_read))}`).join('; '),
      );
    } finally {
      await client.end();
    }
  }
}
