import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, type SqlStore } from '@concord/core';
import { serviceAvailable, services } from '@concord/core/testing';
import { dropPostgresDatabase, ensurePostgresDatabase, openPostgresStore } from '@concord/postgres';
import { withDatabase } from '@concord/postgres/spi';
import { openSqliteStore } from '@concord/sqlite';

const PG_SERVER = process.env.CONCORD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchStore {
  readonly kind: 'sqlite' | 'postgres';
  readonly store: SqlStore;
  dispose(): Promise<void>;
}

/** A fresh service store for one scenario: a SQLite file in a temp dir, or a new PostgreSQL database. */
export async function openBenchStore(kind: 'sqlite' | 'postgres', tag: string): Promise<BenchStore> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), `concord-bench-${tag}-`));
    const store = await openSqliteStore({ filename: join(dir, 'service.db'), logger: silentLogger });
    return { kind, store, dispose: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
  }
  const url = withDatabase(PG_SERVER, `concord_bench_${tag}_${Date.now().toString(36)}`);
  await ensurePostgresDatabase(url);
  const store = await openPostgresStore({ connectionString: url, poolSize: 16, logger: silentLogger });
  return { kind, store: store as unknown as SqlStore, dispose: async () => (await store.close(), await dropPostgresDatabase(url)) };
}

export async function postgresReachable(): Promise<boolean> {
  return serviceAvailable(services.postgres).catch(() => false);
}
