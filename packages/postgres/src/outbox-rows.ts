import { ENVELOPE_COLUMNS, envelopeFromRow, type EnvelopeRow, type OutboxRecord, type SqlExecutor } from '@concord/core';

export const OUTBOX_COLUMNS_SQL = `position, shard, ${ENVELOPE_COLUMNS.join(', ')}`;

export type OutboxRow = EnvelopeRow & { position: number | string; shard: number | string };

export function recordFromRow(row: OutboxRow): OutboxRecord {
  return { position: Number(row.position), shard: Number(row.shard), envelope: envelopeFromRow(row) };
}

/** Unsent rows of the given shards, oldest first: per shard, always a prefix of what is unsent. */
export async function fetchUnsentInShards(
  exec: SqlExecutor,
  table: string,
  shards: readonly number[],
  limit: number,
): Promise<OutboxRecord[]> {
  const rows = await exec.query<OutboxRow>(
    `SELECT ${OUTBOX_COLUMNS_SQL} FROM ${table} ` +
      `WHERE sent_at IS NULL AND shard = ANY(?::int[]) ORDER BY position LIMIT ?`,
    [shards, limit],
  );
  return rows.map(recordFromRow);
}

/** Splits records into `lanes` groups by shard, each keeping its records' order. */
export function lanesByShard(records: readonly OutboxRecord[], lanes: number): OutboxRecord[][] {
  const out = new Map<number, OutboxRecord[]>();
  for (const r of records) {
    const lane = r.shard % lanes;
    let list = out.get(lane);
    if (!list) out.set(lane, (list = []));
    list.push(r);
  }
  return [...out.values()];
}
