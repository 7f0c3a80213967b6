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
 * Unsent rows of the given shards, oldest first (per shard, always a prefix of what is unsent
 * once `published`, the rows the broker already accepted and still being marked, count as
 * sent), from position `from` on, together with the statement's snapshot (see UnsentFloor):
 * one statement, so one round trip and one transaction. The snapshot's row comes back even
 * when no outbox row does.
 */
export async function fetchUnsentInShards(
  exec: SqlExecutor,
  table: string,
  shards: readonly number[],
  limit: number,
  published: readonly number[] = [],
  from = 0,
): Promise<OutboxRead & { snapshot: OutboxSnapshot }> {
  const skipPublished = published.length === 0 ? '' : ' AND NOT (position = ANY(?::bigint[]))';
  // `position >= ?` starts the index scan past the sent rows still in it.
  const rows = await exec.query<Partial<OutboxRow> & { snap_xmin: string; snap_xmax: string; snap_top: string | number }>(
    `WITH s AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS snap_xmin, ` +
      `pg_snapshot_xmax(pg_current_snapshot())::text AS snap_xmax, (SELECT COALESCE(MAX(position), 0) FROM ${table}) AS snap_top) ` +
      `SELECT s.snap_xmin, s.snap_xmax, s.snap_top, o.* FROM s LEFT JOIN LATERAL (` +
      `SELECT ${OUTBOX_COLUMNS_SQL} FROM ${table} WHERE sent_at IS NULL AND position >= ? AND shard = ANY(?::int[])${skipPublished} ` +
      `ORDER BY position LIMIT ?) AS o ON true ORDER BY o.position`,
    published.length === 0 ? [from, shards, limit] : [from, shards, published, limit],
  );
  const first = rows[0]!;
  const snapshot = { xmin: BigInt(first.snap_xmin), xmax: BigInt(first.snap_xmax), top: Number(first.snap_top) };
  // A row that cannot be decoded is reported (the relay parks it) instead of failing the round.
  return { ...decodeOutboxRows(rows.filter((r): r is typeof r & OutboxRow => r.position != null)), snapshot };
}

/** Unsent rows of every shard, oldest first (the tailing relay's catch-up). */
export function fetchUnsent(exec: SqlExecutor, table: string, limit: number): Promise<OutboxRead> {
  return exec
    .query<OutboxRow>(`SELECT ${OUTBOX_COLUMNS_SQL} FROM ${table} WHERE sent_at IS NULL ORDER BY position LIMIT ?`, [limit])
    .then(decodeOutboxRows);
}

/**
 * The polling relay's read for core's relay loop, woken across processes by NOTIFY. It reads
 * from a floor past the rows already sent (see UnsentFloor), with the snapshot the read ran
 * under, so the rows it returns include everything the snapshot counts as ended.
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
        const read = await fetchUnsentInShards(exec, table, chosen, limit, inFlight, from);
        // Whatever this read returned may still fail to publish: the floor stays at or below it.
        const returned = [...read.records.map((r) => r.position), ...read.undecodable.map((u) => u.position)];
        floor.advance(read.snapshot, returned.length > 0 ? Math.min(...returned) : undefined);
        return { records: read.records, undecodable: read.undecodable };
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
