import pg from 'pg';
import { InvalidArgumentError } from '@concord/core';
import { quoteIdent } from './postgres-dialect.js';

/** The database a `postgres://` URL names (its path), or undefined when it names none. */
export function databaseNameOf(connectionString: string): string | undefined {
  const url = parseUrl(connectionString);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  return name.length > 0 ? name : undefined;
}

function parseUrl(connectionString: string): URL {
  try {
    return new URL(connectionString);
  } catch (cause) {
    throw new InvalidArgumentError(`not a PostgreSQL URL: ${connectionString.replace(/:[^:@/]*@/, ':***@')}`, { cause });
  }
}

/** The same server and credentials, pointed at another database. */
export function withDatabase(connectionString: string, database: string): string {
  const url = parseUrl(connectionString);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/**
 * Creates the database named in `connectionString` when it does not exist yet, connecting to
 * the server's `postgres` maintenance database to do so ("one database per service, created
 * when missing"). Returns true when it created it. Safe when several processes race.
 */
export async function ensurePostgresDatabase(connectionString: string, maintenanceDatabase = 'postgres'): Promise<boolean> {
  const name = databaseNameOf(connectionString);
  if (!name) throw new InvalidArgumentError('ensurePostgresDatabase: the URL names no database');
  const client = new pg.Client({ connectionString: withDatabase(connectionString, maintenanceDatabase) });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
      return true;
    } catch (error) {
      // 42P04 duplicate_database; 23505 when two CREATE DATABASE race on the catalog index.
      const code = (error as { code?: string }).code;
      if (code === '42P04' || code === '23505') return false;
      throw error;
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Drops a database, disconnecting its sessions (tests, `concord` tooling). */
export async function dropPostgresDatabase(connectionString: string, maintenanceDatabase = 'postgres'): Promise<void> {
  const name = databaseNameOf(connectionString);
  if (!name) throw new InvalidArgumentError('dropPostgresDatabase: the URL names no database');
  const client = new pg.Client({ connectionString: withDatabase(connectionString, maintenanceDatabase) });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
