import { join } from 'node:path';
import { InvalidArgumentError, type Logger, type SqlStore } from '@concord/core';
import { openMysqlStore } from '@concord/mysql';
import { openPostgresStore } from '@concord/postgres';
import { openSqliteStore } from '@concord/sqlite';
import type { ShippingConfig } from './config.js';

/** The Shipping service's own database: a SQLite file under the data dir, or the server in CONCORD_DATABASE_URL. */
export async function openShippingStore(config: ShippingConfig, logger: Logger): Promise<SqlStore> {
  const url = config.databaseUrl;
  if (!url) return openSqliteStore({ filename: join(config.dataDir, 'shipping-service.db'), logger });
  if (/^postgres(ql)?:\/\//.test(url))
    return openPostgresStore({ connectionString: url, createDatabase: true, logger }) as Promise<SqlStore>;
  if (/^(mysql|mariadb):\/\//.test(url))
    return openMysqlStore({ connectionString: url, createDatabase: true, logger });
  throw new InvalidArgumentError(
    `CONCORD_DATABASE_URL must start with postgres:// or mysql://, got "${url}"`,
  );
}
