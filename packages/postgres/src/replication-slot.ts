import type { SqlExecutor } from '@concord/core';
import { quoteIdent } from './postgres-dialect.js';

export interface SlotStatus {
  readonly slot: string;
  readonly exists: boolean;
  /** A walsender streams from it right now. */
  readonly active: boolean;
  /** WAL the server keeps for this slot: `pg_current_wal_lsn() - restart_lsn`. */
  readonly retainedWalBytes: number;
  /** WAL written since the position the relay last confirmed. */
  readonly unconfirmedWalBytes: number;
}

/** Replication slot and publication names: lower-case letters, digits and '_', at most 63. */
export function replicationName(raw: string): string {
  return raw.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 63);
}

/** A publication of the outbox's inserts only: updates (sent_at) and deletes (purges) are not streamed. */
export async function ensurePublication(exec: SqlExecutor, publication: string, table: string): Promise<boolean> {
  const found = await exec.query('SELECT 1 FROM pg_publication WHERE pubname = ?', [publication]);
  if (found.length > 0) return false;
  try {
    await exec.execute(`CREATE PUBLICATION ${quoteIdent(publication)} FOR TABLE ${table} WITH (publish = 'insert')`);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '42710') return false; // created meanwhile by a twin
    throw error;
  }
}

/** Creates the logical slot (pgoutput) when missing; returns true when it did. */
export async function ensureSlot(exec: SqlExecutor, slot: string): Promise<boolean> {
  const found = await exec.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = ?', [slot]);
  if (found.length > 0) return false;
  try {
    await exec.query(`SELECT pg_create_logical_replication_slot(?, 'pgoutput')`, [slot]);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '42710') return false;
    throw error;
  }
}

export async function dropSlot(exec: SqlExecutor, slot: string): Promise<boolean> {
  const rows = await exec.query<{ dropped: boolean }>(
    'SELECT pg_drop_replication_slot(slot_name) IS NULL AS dropped FROM pg_replication_slots WHERE slot_name = ? AND NOT active',
    [slot],
  );
  return rows.length > 0;
}

export async function slotStatus(exec: SqlExecutor, slot: string): Promise<SlotStatus> {
  const rows = await exec.query<{ active: boolean; retained: string | null; unconfirmed: string | null }>(
    'SELECT active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) AS retained, ' +
      'pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn) AS unconfirmed FROM pg_replication_slots WHERE slot_name = ?',
    [slot],
  );
  const row = rows[0];
  return {
    slot,
    exists: row !== undefined,
    active: row?.active ?? false,
    retainedWalBytes: Math.max(0, Number(row?.retained ?? 0)),
    unconfirmedWalBytes: Math.max(0, Number(row?.unconfirmed ?? 0)),
  };
}
