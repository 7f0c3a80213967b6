import mysql from 'mysql2/promise';

export interface MariaDbCounters {
  readonly commits: number;
  readonly rowsRead: number;
}

/**
 * Server-wide commits (`Handler_commit`) and rows read (`Rows_read`) from MariaDB's
 * global status: unlike PostgreSQL's per-database counters these include anything else the
 * server runs at the same time, so measure on a quiet server.
 */
export async function readMariaDbCounters(uri = 'mysql://root@127.0.0.1:3306'): Promise<MariaDbCounters> {
  const conn = await mysql.createConnection(uri);
  try {
    const [rows] = await conn.query(`SHOW GLOBAL STATUS WHERE Variable_name IN ('Handler_commit', 'Rows_read')`);
    const map = new Map((rows as Array<{ Variable_name: string; Value: string }>).map((r) => [r.Variable_name, Number(r.Value)]));
    return { commits: map.get('Handler_commit') ?? 0, rowsRead: map.get('Rows_read') ?? 0 };
  } finally {
    await conn.end();
  }
}

export async function dropMariaDbDatabases(prefix: string, uri = 'mysql://root@127.0.0.1:3306'): Promise<void> {
  const conn = await mysql.createConnection(uri);
  try {
    const [rows] = await conn.query(`SHOW DATABASES LIKE ?`, [`${prefix}%`]);
    for (const row of rows as Array<Record<string, string>>) await conn.query(`DROP DATABASE IF EXISTS \`${Object.values(row)[0]}\``);
  } finally {
    await conn.end();
  }
}
