import { defaultLogger, OutboxRelay, type OutboxRelayOptions } from '@concord/core';
import { decodeOutboxRows, ENVELOPE_COLUMNS, ShardLeases, type OutboxRow, type OutboxSource } from '@concord/core/spi';
import type { MysqlConnection } from './mysql-pool.js';
import type { MysqlStore } from './mysql-store.js';
import { mysqlShardLocks, type OutboxShardLeaseOptions } from './outbox-shard-leases.js';

export interface MysqlPollingRelayOptions extends Omit<OutboxRelayOptions, 'store'> {
  readonly store: MysqlStore<MysqlConnection>;
  /**
   * Share the outbox shards between several relay instances with `GET_LOCK` leases (one extra
   * pooled connection per relay). `false`: a plain single relay; run only one per service.
   * Default true.
   */
  readonly shardLeases?: boolean | OutboxShardLeaseOptions;
}

/**
 * Core's polling relay loop on MySQL/MariaDB, reading only the outbox shards this instance
 * holds a lease on, so any number of instances can run and per-key order still holds. Only
 * the SQL (below, and the locks in `outbox-shard-leases.ts`) is MySQL's.
 */
export class MysqlPollingRelay extends OutboxRelay {
  constructor(options: MysqlPollingRelayOptions) {
    const leaseOptions = options.shardLeases ?? true;
    const lease = leaseOptions === true ? {} : leaseOptions;
    const leases =
      lease === false
        ? undefined
        : new ShardLeases(mysqlShardLocks(options.store.driver, lease.maxMembers), {
            shards: lease.shards,
            rebalanceEveryMs: lease.rebalanceEveryMs ?? 2_000,
            clock: lease.clock ?? options.clock,
            logger: lease.logger ?? options.logger ?? defaultLogger(),
          });
    super(options, { source: mysqlOutboxSource(options.store), leases, component: 'mysql-polling-relay' });
  }
}

/** Unsent rows of the given shards (every shard without leases), oldest first. */
function mysqlOutboxSource(store: MysqlStore<MysqlConnection>): OutboxSource {
  const driver = store.driver;
  const columns = `position, shard, ${ENVELOPE_COLUMNS.join(', ')}`;
  return {
    read: async ({ shards, limit }) => {
      if (shards?.length === 0) return { records: [], undecodable: [] };
      const where = shards ? `AND shard IN (${shards.map(() => '?').join(', ')}) ` : '';
      const rows = await driver.run((exec) =>
        exec.query<OutboxRow>(
          `SELECT ${columns} FROM ${driver.dialect.table('outbox')} WHERE sent_at IS NULL ${where}ORDER BY position LIMIT ?`,
          [...(shards ?? []), limit],
        ),
      );
      return decodeOutboxRows(rows);
    },
  };
}
