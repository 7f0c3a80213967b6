/**
 * A service's own tables live in its own schema, versioned in its own table, on every database
 * the examples run on; a database from before keeps its rows (decision 038).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '@concord/core';
import { serviceAvailable, services, uniqueName } from '@concord/core/testing';
import { dropMysqlDatabase, ensureMysqlDatabase, openMysqlStore } from '@concord/mysql';
import { dropPostgresDatabase, ensurePostgresDatabase, openPostgresStore } from '@concord/postgres';
import { openSqliteStore } from '@concord/sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateServiceSchema, serviceSql, type ServiceSchema } from './index.js';

interface Database {
  /** Opens one more store on the same database. */
  open(): Promise<Store>;
  /** Where Concord's schema kept a table named `name` before. */
  inConcord(name: string): string;
  drop(): Promise<void>;
}

const databases: Record<string, { available: boolean; create(): Promise<Database> }> = {
  sqlite: {
    available: true,
    create: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'concord-service-schema-'));
      return {
        open: () => openSqliteStore({ filename: join(dir, 'service.db') }),
        inConcord: (name) => `concord_${name}`,
        drop: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  postgres: {
    available: await serviceAvailable(services.postgres),
    create: async () => {
      const url = `postgres://postgres@127.0.0.1:5432/${uniqueName('service_schema').toLowerCase()}`;
      await ensurePostgresDatabase(url);
      return { open: () => openPostgresStore({ connectionString: url }), inConcord: (name) => `concord.${name}`, drop: () => dropPostgresDatabase(url) };
    },
  },
  mysql: {
    available: await serviceAvailable(services.mariadb),
    create: async () => {
      const uri = `mysql://root@127.0.0.1:3306/${uniqueName('service_schema')}`;
      await ensureMysqlDatabase(uri);
      return { open: () => openMysqlStore({ connectionString: uri }), inConcord: (name) => `concord_${name}`, drop: () => dropMysqlDatabase(uri) };
    },
  },
};

const things: ServiceSchema = {
  name: 'things',
  migrations: [
    { version: 1, name: 'things', up: (d) => [`CREATE TABLE ${d.table('example_things')} (id ${d.types.bigint} NOT NULL PRIMARY KEY, name ${d.types.key} NOT NULL)`] },
    { version: 2, name: 'things have a size', up: (d) => [`ALTER TABLE ${d.table('example_things')} ADD size ${d.types.int} NULL`] },
  ],
  formerlyInConcord: ['example_things'],
};

for (const [kind, database] of Object.entries(databases)) {
  describe.skipIf(!database.available)(`a service's own schema on ${kind}`, () => {
    const opened: Store[] = [];
    let db: Database | undefined;
    const open = async () => {
      db ??= await database.create();
      const store = await db.open();
      opened.push(store);
      return store;
    };
    const rows = <T>(store: Store, sql: string) => store.transaction((tx) => tx.sql.query<T>(sql));
    const versions = async (store: Store) => {
      const ledger = kind === 'postgres' ? 'things.migrations' : 'things_migrations';
      return (await rows<{ version: number | string }>(store, `SELECT version FROM ${ledger} ORDER BY version`)).map((r) => Number(r.version));
    };

    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
      await db?.drop();
      db = undefined;
    });

    it("creates its tables outside Concord's, each version once, also when two processes start at once", async () => {
      const [a, b] = [await open(), await open()];
      await Promise.all([migrateServiceSchema(a, things), migrateServiceSchema(b, things)]);
      await migrateServiceSchema(a, things);
      expect(await versions(a)).toEqual([1, 2]);
      const table = serviceSql(a, things.name).table('example_things');
      expect(table).toBe(kind === 'postgres' ? 'things.example_things' : 'example_things');
      await a.transaction((tx) => tx.sql.execute(`INSERT INTO ${table} (id, name, size) VALUES (?, ?, ?)`, [1, 'box', 3]));
      expect(await rows(b, `SELECT name, size FROM ${table} WHERE id = 1`)).toEqual([{ name: 'box', size: 3 }]);
    });

    it("moves the tables an earlier version kept in Concord's schema, rows and all, then migrates on", async () => {
      const store = await open();
      const legacy = db!.inConcord('example_things');
      await store.transaction(async (tx) => {
        await tx.sql.execute(`CREATE TABLE ${legacy} (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL)`);
        await tx.sql.execute(`INSERT INTO ${legacy} (id, name) VALUES (7, 'kept')`);
      });
      await migrateServiceSchema(store, things);
      expect(await versions(store)).toEqual([1, 2]);
      const table = serviceSql(store, things.name).table('example_things');
      expect(await rows(store, `SELECT name, size FROM ${table}`)).toEqual([{ name: 'kept', size: null }]);
      await expect(rows(store, `SELECT * FROM ${legacy}`)).rejects.toThrow();
    });
  });
}
