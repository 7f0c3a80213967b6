import { decodeOutboxRows, type OutboxRow, type OutboxSource } from '../outbox/outbox-source.js';
import { ENVELOPE_COLUMNS } from './envelope-row.js';
import type { SqlDriver } from './sql-driver.js';

/**
 * The polling relay's read in portable SQL (`IN` lists): unsent rows of the given shards, oldest
 * first. For databases without a better form of it (SQLite, MySQL); PostgreSQL has its own.
 */
export function sqlOutboxSource(driver: SqlDriver): OutboxSource {
  const select = `SELECT position, shard, ${ENVELOPE_COLUMNS.join(', ')} FROM ${driver.dialect.table('outbox')} WHERE sent_at IS NULL`;
  return {
    read: async ({ shards, limit }) => {
      if (shards?.length === 0) return { records: [], undecodable: [] };
      const where = shards ? ` AND shard IN (${shards.map(() => '?').join(', ')})` : '';
      const rows = await driver.run((exec) => exec.query<OutboxRow>(`${select}${where} ORDER BY position LIMIT ?`, [...(shards ?? []), limit]));
      // A row that cannot be decoded is reported (the relay parks it) instead of failing the round.
      return decodeOutboxRows(rows);
    },
  };
}
