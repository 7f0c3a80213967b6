import { defaultLogger, OutboxRelay, type OutboxRelayOptions, type OutboxRelayStats } from '@concord/core';
import { ShardLeases } from '@concord/core/spi';
import { postgresOutboxSource } from './outbox-rows.js';
import type { PostgresPoolClient } from './postgres-pool.js';
import type { PostgresStore } from './postgres-store.js';
import { postgresShardLocks } from './shard-leases.js';

export interface PostgresPollingRelayOptions<C extends PostgresPoolClient> extends Omit<OutboxRelayOptions, 'store'> {
  readonly store: PostgresStore<C>;
  /** Rows read per round. Default 1000. */
  readonly batchSize?: number;
  /** Longest sleep when nothing woke the relay (NOTIFY and local commits wake it at once). Default 1 s. */
  readonly pollIntervalMs?: number;
  /** How often shard leases are checked against the number of live relays. Default 1 s. */
  readonly rebalanceIntervalMs?: number;
  /**
   * Reads normally start past the rows already sent (see UnsentFloor); this often one reads from
   * the start, a safety net for outbox rows written other than through the store. Default 60 s.
   */
  readonly fullReadEveryMs?: number;
}

export type PostgresPollingRelayStats = OutboxRelayStats;

/**
 * Core's polling relay loop on PostgreSQL: any number of instances split the outbox's shards
 * with advisory-lock leases (`postgresShardLocks`, docs/decisions/012-postgres-relay.md); each
 * reads only its shards' unsent rows in position order (`outbox-rows.ts`) and is woken across
 * processes by NOTIFY. Only the SQL is PostgreSQL's; the loop is `OutboxRelay`.
 */
export class PostgresPollingRelay<C extends PostgresPoolClient = PostgresPoolClient> extends OutboxRelay {
  constructor(options: PostgresPollingRelayOptions<C>) {
    const { store } = options;
    const logger = (options.logger ?? defaultLogger()).child({ schema: store.schema });
    const leases = new ShardLeases(postgresShardLocks(store.driver), {
      rebalanceEveryMs: options.rebalanceIntervalMs ?? 1_000,
      clock: options.clock,
      logger,
    });
    super(
      { ...options, logger, batchSize: options.batchSize ?? 1000, pollIntervalMs: options.pollIntervalMs ?? 1_000 },
      { source: postgresOutboxSource(store, { fullReadEveryMs: options.fullReadEveryMs }), leases, component: 'postgres-polling-relay' },
    );
  }
}
