import { defaultLogger, OutboxRelay, type OutboxRelayOptions } from '@concord/core';
import { ShardLeases, sqlOutboxSource } from '@concord/core/spi';
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
 * the locks (`outbox-shard-leases.ts`) are MySQL's; the read is core's portable SQL.
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
    super(options, { source: sqlOutboxSource(options.store.driver), leases, component: 'mysql-polling-relay' });
  }
}
