import { InvalidArgumentError } from '@concord/core';
import { PostgresPollingRelay, type PostgresPollingRelayOptions } from './polling-relay.js';
import type { PostgresPoolClient } from './postgres-pool.js';
import { PostgresTailingRelay, type PostgresTailingRelayOptions } from './tailing-relay.js';

export type PostgresRelayOptions<C extends PostgresPoolClient = PostgresPoolClient> =
  | ({ readonly mode: 'polling' } & PostgresPollingRelayOptions<C>)
  | ({ readonly mode: 'tailing' } & PostgresTailingRelayOptions<C>);

/**
 * The relay a service's configuration asks for: `polling` (any number of instances, shard
 * leases) or `tailing` (WAL through a logical replication slot, one active reader).
 */
export function createPostgresRelay<C extends PostgresPoolClient>(
  options: PostgresRelayOptions<C>,
): PostgresPollingRelay<C> | PostgresTailingRelay<C> {
  switch (options.mode) {
    case 'polling':
      return new PostgresPollingRelay(options);
    case 'tailing':
      return new PostgresTailingRelay(options);
    default:
      throw new InvalidArgumentError(`relay mode must be 'polling' or 'tailing', got ${String((options as { mode?: unknown }).mode)}`);
  }
}
