import { decodeEnvelopeRow, type EnvelopeRow } from '../sql/envelope-row.js';
import type { OutboxReader, OutboxRecord } from '../ports/store.js';

/** An outbox row that cannot be decoded: the relay parks it with the reason. */
export interface UndecodableOutboxRow {
  readonly position: number;
  readonly reason: string;
}

/** What one read of the outbox found. */
export interface OutboxRead {
  readonly records: OutboxRecord[];
  readonly undecodable: readonly UndecodableOutboxRow[];
}

export interface OutboxReadRequest {
  /** Only these shards' rows (the relay's leases); undefined: every shard. */
  readonly shards: readonly number[] | undefined;
  readonly limit: number;
  /** Rows the broker accepted that are still being marked sent: leave them out. */
  readonly inFlight: readonly number[];
}

/**
 * The one read a polling relay makes each round, in a database's own SQL: unsent rows, oldest
 * first, per shard always a prefix of what is unsent. The relay loop (`OutboxRelay`) does the
 * rest: leases, lanes, parking, marking, backoff.
 */
export interface OutboxSource {
  read(request: OutboxReadRequest): Promise<OutboxRead>;
  /**
   * True when `read` leaves out `inFlight` itself: marking one batch sent may then overlap
   * reading the next while a backlog drains. Default false (each batch is marked first).
   */
  readonly skipsInFlight?: boolean;
  /** Wakes the relay on commits of other processes (PostgreSQL NOTIFY); resolves to the unsubscribe. */
  listen?(wake: () => void): Promise<() => unknown>;
}

/** Reads through the store's port (any store; no shard filter: for a relay without leases). */
export function storeOutboxSource(outbox: OutboxReader): OutboxSource {
  return {
    // The store parks what it cannot decode itself.
    read: async ({ limit }) => ({ records: await outbox.fetchUnsent(limit), undecodable: [] }),
  };
}

export type OutboxRow = EnvelopeRow & { position: number | string; shard: number | string };

/** Decodes outbox rows; one that does not decode is reported (the relay parks it) instead of failing the round. */
export function decodeOutboxRows(rows: readonly OutboxRow[]): OutboxRead {
  const records: OutboxRecord[] = [];
  const undecodable: UndecodableOutboxRow[] = [];
  for (const row of rows) {
    try {
      records.push({ position: Number(row.position), shard: Number(row.shard), envelope: decodeEnvelopeRow(row, `outbox row ${row.position}`) });
    } catch (error) {
      undecodable.push({ position: Number(row.position), reason: (error as Error).message });
    }
  }
  return { records, undecodable };
}
