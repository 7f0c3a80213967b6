import { type SqlExecutor } from '@concord/core';
import { decodeEnvelopeRow, ENVELOPE_COLUMNS, envelopeFromRow, type EnvelopeRow, type OutboxRecord } from '@concord/core/spi';

export const OUTBOX_COLUMNS_SQL = `position, shard, ${ENVELOPE_COLUMNS.join(', ')}`;

export type OutboxRow = EnvelopeRow & { position: number | string; shard: number | string };

export function recordFromRow(row: OutboxRow): OutboxRecord {
  return { position: Number(row.position), shard: Number(row.shard), envelope: envelopeFromRow(row) };
}

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
): Promise<{ records: OutboxRecord[]; undecodable: Array<{ position: number; reason: string }> }> {
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
  const records: OutboxRecord[] = [];
  const undecodable: Array<{ position: number; reason: string }> = [];
  for (const row of rows) {
    try {
      records.push({ position: Number(row.position), shard: Number(row.shard), envelope: decodeEnvelopeRow(row, `outbox row ${row.position}`) });
    } catch (error) {
      undecodable.push({ position: Number(row.position), reason: (error as Error).message });
    }
  }
  return { records, undecodable };
}

/** Below this many records per lane, one publish is cheaper than several in parallel. */
const MIN_LANE = 500;

/**
 * Splits records into at most `maxLanes` groups by shard, each keeping its records' order;
 * small batches stay one group (each lane is a broker round trip of its own).
 */
export function lanesByShard(records: readonly OutboxRecord[], maxLanes: number): OutboxRecord[][] {
  const lanes = Math.max(1, Math.min(maxLanes, Math.ceil(records.length / MIN_LANE)));
  if (lanes === 1) return records.length > 0 ? [[...records]] : [];
  const out = new Map<number, OutboxRecord[]>();
  for (const r of records) {
    const lane = r.shard % lanes;
    let list = out.get(lane);
    if (!list) out.set(lane, (list = []));
    list.push(r);
  }
  return [...out.values()];
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
