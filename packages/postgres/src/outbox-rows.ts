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
import { UnsentFloor } from './unsent-floor.js';

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
  from = 0,
): Promise<OutboxRead> {
  // `position >= ?` starts the index scan past the sent rows still in it (see UnsentFloor).
  const rows =
    published.length === 0
      ? await exec.query<OutboxRow>(
          `SELECT ${OUTBOX_COLUMNS_SQL} FROM ${table} WHERE sent_at IS NULL AND position >= ? AND shard = ANY(?::int[]) ORDER BY position LIMIT ?`,
          [from, shards, limit],
        )
      : await exec.query<OutboxRow>(
          `SELECT ${OUTBOX_COLUMNS_SQL} FROM ${table} WHERE sent_at IS NULL AND position >= ? AND shard = ANY(?::int[]) ` +
            `AND NOT (position = ANY(?::bigint[])) ORDER BY position LIMIT ?`,
          [from, shards, published, limit],
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

/**
 * The polling relay's read for core's relay loop, woken across processes by NOTIFY. It reads
 * from a floor past the rows already sent (see UnsentFloor): the snapshot first, so the rows
 * read after it include everything it counts as ended.
 */
export function postgresOutboxSource<C extends PostgresPoolClient>(
  store: PostgresStore<C>,
  options: { readonly fullReadEveryMs?: number } = {},
): OutboxSource {
  const table = `${store.schema}.outbox`;
  const every = Array.from({ length: OUTBOX_SHARDS }, (_, i) => i);
  const floor = new UnsentFloor(options.fullReadEveryMs ?? 5_000);
  return {
    skipsInFlight: true,
    read: ({ shards, limit, inFlight }) =>
      store.driver.run(async (exec) => {
        const chosen = shards ?? every;
        const from = floor.startFor(chosen, Date.now());
        const [snapshot, read] = await Promise.all([
          readOutboxSnapshot(exec, table),
          fetchUnsentInShards(exec, table, chosen, limit, inFlight, from),
        ]);
        // Whatever this read returned may still fail to publish: the floor stays at or below it.
        const returned = [...read.records.map((r) => r.position), ...read.undecodable.map((u) => u.position)];
        floor.advance(snapshot, returned.length > 0 ? Math.min(...returned) : undefined);
        return read;
      }),
    listen: (wake) => store.driver.listen(OUTBOX_TOPIC, wake),
  };
}

export interface OutboxSnapshot {
  readonly xmin: bigint;
  readonly xmax: bigint;
  /** The highest position visible (sent or not), 0 when the table is empty. */
  readonly top: number;
}

/** The current snapshot's bounds and the highest visible position, in one statement (see UnsentFloor). */
export async function readOutboxSnapshot(exec: SqlExecutor, table: string): Promise<OutboxSnapshot> {
  const rows = await exec.query<{ xmin: string; xmax: string; top: string | number }>(
    `SELECT pg_snapshot_xmin(s)::text AS xmin, pg_snapshot_xmax(s)::text AS xmax, ` +
      `(SELECT COALESCE(MAX(position), 0) FROM ${table}) AS top FROM pg_current_snapshot() AS s`,
  );
  const r = rows[0]!;
  return { xmin: BigInt(r.xmin), xmax: BigInt(r.xmax), top: Number(r.top) };
}
