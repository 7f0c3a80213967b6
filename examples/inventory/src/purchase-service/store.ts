import { SqlBroker, type Logger } from '@concord/core';
import { migrateServiceSchema } from '@concord/example-customers-orders/service-schema';
import { openMysqlStore, type MysqlStore } from '@concord/mysql';
import { inventorySchema } from './schema.js';

export type InventoryStore = MysqlStore;

/**
 * A partition held by a process that died is taken over after this long. Shorter than the
 * broker's default (10 s): purchases wait for it after a crash; renewing costs one small
 * UPDATE every 1.7 s.
 */
const BROKER_LEASE_MS = 5_000;

/**
 * The Purchase service's MySQL database (created when missing): its own tables, Concord's
 * outbox and inbox, and the in-database broker, all in one database. The broker lives in MySQL,
 * not in Redis: this Redis keeps nothing on disk, and a message must outlive a Redis restart.
 */
export async function openInventoryStore(uri: string, logger: Logger): Promise<{ store: InventoryStore; broker: SqlBroker }> {
  const store = await openMysqlStore({ connectionString: uri, createDatabase: true, logger, poolSize: 20 });
  try {
    await migrateServiceSchema(store, inventorySchema);
    const broker = new SqlBroker(store.driver, { logger, partitions: 8, leaseMs: BROKER_LEASE_MS });
    await broker.migrate();
    return { store, broker };
  } catch (error) {
    await store.close();
    throw error;
  }
}
