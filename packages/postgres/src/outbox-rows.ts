import { type SqlExecutor } from '@concord/core';
import {
  decodeOutboxRows,
  ENVELOPE_COLUMNS,
  OUTBOX_SHARDS,
  OUTBOX_TOPIC,
  type OutboxRead,
  type OutboxRow,
  type OutboxSource,
} from '@concord/core/spi';
import type { PostgresPoolClient } from './postgres-pool.js';
import type { PostgresStore } from './postgres-store.js';

export const OUTBOX_COLUMNS_SQL = `position, shard, ${ENVELOPE_COLUMNS.join(', ')}`;

export type { OutboxRow };

/**
 * Unsent rows of the given shards, oldest first: per shard, always a prefix of what is unsent
 * once `published` (rows the broker already accepted, still being marked) count as sent.
 */
export async function fetchUnsentInShards(
  exec: SqlExecutor,
  table: string,
  shards: readonly number[],
  limit: number,
  published: readonly number[] = [],
): Promise<OutboxRead> {
  const rows =
    published.length === 0
      ? await exec.query<OutboxRow>(
          `SELECT ${OUTBOX_COLUMNS_SQL} FROM ${table} WHERE sent_at IS NULL AND shard = ANY(?::int[]) ORDER BY position LIMIT ?`,
          [shards, limit],
        )
      : await exec.query<OutboxRow>(
          `SELECT ${OUTBOX_COLUMNS_SQL} FROM ${table} WHERE sent_at IS NULL AND shard = ANY(?::int[]) ` +
            `AND NOT (position = ANY(?::bigint[])) ORDER BY position LIMIT ?`,
          [shards, published, limit],
        );
  // A row that cannot be decoded is reported (the relay parks it) instead of failing the round.
  return decodeOutboxRows(rows);
}

/** Unsent rows of every shard, oldest first (the tailing relay's catch-up). */
export function fetchUnsent(exec: SqlExecutor, table: string, limit: number): Promise<OutboxRead> {
  return exec
    .query<OutboxRow>(`SELECT ${OUTBOX_COLUMNS_SQL} FROM ${table} WHERE sent_at IS NULL ORDER BY position LIMIT ?`, [limit])
    .then(decodeOutboxRows);
}

/** The polling relay's read for core's relay loop, woken across processes by NOTIFY. */
export function postgresOutboxSource<C extends PostgresPoolClient>(store: PostgresStore<C>): OutboxSource {
  const table = `${store.schema}.outbox`;
  const every = Array.from({ length: OUTBOX_SHARDS }, (_, i) => i);
  return {
    skipsInFlight: true,
    read: ({ shards, limit, inFlight }) =>
      store.driver.run((exec) => fetchUnsentInShards(exec, table, shards ?? every, limit, inFlight)),
    listen: (wake) => store.driver.listen(OUTBOX_TOPIC, wake),
  };
}
