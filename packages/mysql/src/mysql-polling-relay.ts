import {
  ENVELOPE_COLUMNS,
  OutboxRelay,
  type EnvelopeRow,
  type OutboxLag,
  type OutboxReader,
  type OutboxRecord,
  type OutboxRelayOptions,
  type OutboxRelayStats,
  type Relay,
  type Store,
} from '@concord/core';
import type { MysqlConnection } from './mysql-pool.js';
import type { MysqlStore } from './mysql-store.js';
import { OutboxShardLeases, type OutboxShardLeaseOptions } from './outbox-shard-leases.js';

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
 * Core's polling `OutboxRelay` on MySQL/MariaDB, reading only the outbox shards this instance
 * holds a lease on, so any number of instances can run and per-key order still holds.
 */
export class MysqlPollingRelay implements Relay {
  readonly leases: OutboxShardLeases | undefined;
  private readonly relay: OutboxRelay;

  constructor(private readonly options: MysqlPollingRelayOptions) {
    const { store } = options;
    const leaseOptions = options.shardLeases ?? true;
    if (leaseOptions === false) {
      this.relay = new OutboxRelay(options);
      return;
    }
    this.leases = new OutboxShardLeases(store.driver, {
      logger: options.logger,
      clock: options.clock,
      ...(leaseOptions === true ? {} : leaseOptions),
    });
    const leases = this.leases;
    const reader: OutboxReader = { ...store.outbox, fetchUnsent: async (limit) => fetchShards(store, await leases.owned(), limit) };
    // The relay reads only `store.outbox`; everything else still goes to the store itself.
    const view = Object.create(store, { outbox: { value: reader } }) as Store;
    this.relay = new OutboxRelay({ ...options, store: view });
  }

  start(): void {
    this.relay.start();
  }

  async stop(): Promise<void> {
    await this.relay.stop();
    await this.leases?.close();
  }

  lag(): Promise<OutboxLag> {
    return this.options.store.outbox.lag();
  }

  /** Publishes one batch from the owned shards; returns how many messages went out. */
  publishBatch(): Promise<number> {
    return this.relay.publishBatch();
  }

  /** Publishes until the owned shards are empty. */
  drain(): Promise<number> {
    return this.relay.drain();
  }

  isRunning(): boolean {
    return this.relay.isRunning();
  }

  getStats(): OutboxRelayStats {
    return this.relay.getStats();
  }
}

async function fetchShards(store: MysqlPollingRelayOptions['store'], shards: readonly number[], limit: number): Promise<OutboxRecord[]> {
  if (shards.length === 0) return [];
  const driver = store.driver;
  const d = driver.dialect;
  const rows = await driver.run((exec) =>
    exec.query<EnvelopeRow & { position: number | string; shard: number | string }>(
      `SELECT position, shard, ${ENVELOPE_COLUMNS.join(', ')} FROM ${d.table('outbox')} ` +
        `WHERE sent_at IS NULL AND shard IN (${shards.map(() => '?').join(', ')}) ORDER BY position LIMIT ?`,
      [...shards, limit],
    ),
  );
  // An undecodable row is parked (with the reason) instead of failing every round.
  return store.decodeOrPark(rows);
}
