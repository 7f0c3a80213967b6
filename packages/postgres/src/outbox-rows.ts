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
  // The snapshot's xmax is one past the last transaction to end, not the next id to be given:
  // a transaction with a higher id may be running. age() of an id, in a transaction without
  // one, counts from the next id to be given (read after the snapshot was taken): xmax plus
  // its age is that next id, an upper bound of every id given before the snapshot.
  const rows = await exec.query<Partial<OutboxRow> & { snap_xmin: string; snap_next: string | null; snap_top: string | number }>(
    `WITH x AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin, ` +
      `pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax), ` +
      `s AS (SELECT x.xmin::text AS snap_xmin, ` +
      `CASE WHEN x.xmax % 4294967296 >= 3 THEN (x.xmax + age((x.xmax % 4294967296)::text::xid))::text END AS snap_next, ` +
      `(SELECT COALESCE(MAX(position), 0) FROM ${table}) AS snap_top FROM x) ` +
      `SELECT s.snap_xmin, s.snap_next, s.snap_top, o.* FROM s LEFT JOIN LATERAL (` +
      `SELECT ${OUTBOX_COLUMNS_SQL} FROM ${table} WHERE sent_at IS NULL AND position >= ? AND shard = ANY(?::int[])${skipPublished} ` +
      `ORDER BY position LIMIT ?) AS o ON true ORDER BY o.position`,
    published.length === 0 ? [from, shards, limit] : [from, shards, published, limit],
  );
  const first = rows[0]!;
  const snapshot = {
    xmin: BigInt(first.snap_xmin),
    // Undefined once in 2^32 transactions, where the 32-bit id wraps: no checkpoint then.
    nextXid: first.snap_next === null ? undefined : BigInt(first.snap_next),
    top: Number(first.snap_top),
  };
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
  const floor = new UnsentFloor(options.fullReadEveryMs);
  return {
    skipsInFlight: true,
    read: ({ shards, limit, inFlight }) =>
      store.driver.run(async (exec) => {
        const chosen = shards ?? every;
        const from = floor.startFor(chosen, Date.now());
        const read = await fetchUnsentInShards(exec, table, chosen, limit, inFlight, from);
        // Whatever this read returned may still fail to publish: the floor stays at or below it.
        const returned = [...read.records.map((r) => r.position), ...read.undecodable.map((u) => u.position)];
        floor.advance(chosen, read.snapshot, returned.length > 0 ? Math.min(...returned) : undefined);
        return { records: read.records, undecodable: read.undecodable };
      }),
    listen: (wake) => store.driver.listen(OUTBOX_TOPIC, wake),
  };
}

export interface OutboxSnapshot {
  /** The oldest transaction still running when the read ran. */
  readonly xmin: bigint;
  /** The next transaction id to be given, read after the snapshot; undefined where unknown. */
  readonly nextXid: bigint | undefined;
  /** The highest position visible (sent or not), 0 when the table is empty. */
  readonly top: number;
}
