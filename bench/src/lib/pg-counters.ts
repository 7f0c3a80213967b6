import pg from 'pg';

export interface PgCounters {
  readonly commits: number;
  readonly rowsRead: number;
}

/**
 * Commits and rows read (returned + fetched) summed over the databases whose names start with
 * `prefix`, from `pg_stat_database`. A PostgreSQL 15 backend flushes its statistics at most
 * once a second; one that goes idle within a second of its last flush holds them for another
 * 10 s (PGSTAT_IDLE_INTERVAL). `read` waits that out, or a short run's counts are a fraction
 * of the truth (a 750-saga hand-written run read 0.4 commits per saga with a 1.2 s wait).
 */
/** How long after a run until every backend's statistics are in the views (see PgDatabaseCounters). */
export const STATISTICS_SETTLE_MS = 10_500;

/** Waits until the statistics of what just ran are in PostgreSQL's views. */
export function settleStatistics(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, STATISTICS_SETTLE_MS));
}

export class PgDatabaseCounters {
  private constructor(
    private readonly client: pg.Client,
    private readonly prefix: string,
  ) {}

  static async open(connectionString: string, prefix: string): Promise<PgDatabaseCounters> {
    const client = new pg.Client({ connectionString });
    await client.connect();
    return new PgDatabaseCounters(client, prefix);
  }

  async read(settleMs = STATISTICS_SETTLE_MS): Promise<PgCounters> {
    await new Promise((r) => setTimeout(r, settleMs));
    await this.client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await this.client.query<{ commits: string | null; rows_read: string | null }>(
      `SELECT sum(xact_commit) AS commits, sum(tup_returned + tup_fetched) AS rows_read
         FROM pg_stat_database WHERE datname LIKE $1`,
      [`${this.prefix}%`],
    );
    return { commits: Number(rows[0]?.commits ?? 0), rowsRead: Number(rows[0]?.rows_read ?? 0) };
  }

  /** Drops every database of the prefix (the demo created them). */
  async dropAll(): Promise<void> {
    await dropDatabasesWithPrefix(this.client, this.prefix);
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

/** Drops every database whose name starts with `prefix`, through an open admin connection. */
export async function dropDatabasesWithPrefix(client: pg.Client, prefix: string): Promise<void> {
  const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${prefix}%`]);
  for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
}
