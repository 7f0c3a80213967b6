import { IllegalStateError, NotFoundError } from '../errors.js';
import type { ParkedOutboxFilter, ParkedOutboxRow, ParkedOutboxStore } from '../ports/store.js';
import type { SqlDriver, SqlExecutor } from './sql-driver.js';

const RAW_COLUMNS = ['message_id', 'channel', 'message_type', 'partition_key', 'shard', 'headers', 'payload', 'schema_version', 'created_at'];

type Row = Record<string, unknown>;

function toParked(r: Row): ParkedOutboxRow {
  return {
    id: Number(r.id),
    outboxPosition: Number(r.outbox_position),
    messageId: String(r.message_id),
    channel: String(r.channel),
    messageType: String(r.message_type),
    partitionKey: String(r.partition_key),
    headers: String(r.headers),
    payload: String(r.payload),
    schemaVersion: Number(r.schema_version),
    createdAt: Number(r.created_at),
    error: String(r.error),
    parkedAt: Number(r.parked_at),
    resolvedAt: r.resolved_at == null ? null : Number(r.resolved_at),
    resolution: r.resolution == null ? null : (String(r.resolution) as 'replayed' | 'discarded'),
  };
}

/**
 * Outbox rows a relay could not publish, moved aside as they were (raw text, so a corrupt row
 * is kept byte for byte) with the reason. Parking moves the row in one transaction: it leaves
 * the outbox and appears here, so the relay goes on with the rows behind it.
 */
export class SqlParkedOutbox implements ParkedOutboxStore {
  constructor(
    private readonly driver: SqlDriver,
    private readonly now: () => number,
  ) {}

  private t(name: string): string {
    return this.driver.dialect.table(name);
  }

  /** Moves outbox row `position` here with `reason`; false if it was no longer in the outbox. */
  park(position: number, reason: string): Promise<boolean> {
    return this.driver.transaction((exec) => this.parkIn(exec, position, reason));
  }

  /** `park` inside the caller's transaction (a relay that holds the row's lock). */
  async parkIn(exec: SqlExecutor, position: number, reason: string): Promise<boolean> {
    const moved = await exec.execute(
      `INSERT INTO ${this.t('outbox_parked')} (outbox_position, ${RAW_COLUMNS.join(', ')}, error, parked_at) ` +
        `SELECT position, ${RAW_COLUMNS.join(', ')}, ?, ? FROM ${this.t('outbox')} WHERE position = ? AND sent_at IS NULL`,
      [reason.slice(0, 4000), this.now(), position],
    );
    if (moved === 0) return false;
    await exec.execute(`DELETE FROM ${this.t('outbox')} WHERE position = ?`, [position]);
    return true;
  }

  list(filter: ParkedOutboxFilter = {}): Promise<ParkedOutboxRow[]> {
    return this.driver.run(async (exec) => {
      const where = filter.includeResolved ? '' : ' WHERE resolved_at IS NULL';
      const rows = await exec.query<Row>(`SELECT * FROM ${this.t('outbox_parked')}${where} ORDER BY id LIMIT ?`, [filter.limit ?? 100]);
      return rows.map(toParked);
    });
  }

  get(id: number): Promise<ParkedOutboxRow | undefined> {
    return this.driver.run(async (exec) => {
      const rows = await exec.query<Row>(`SELECT * FROM ${this.t('outbox_parked')} WHERE id = ?`, [id]);
      return rows[0] ? toParked(rows[0]) : undefined;
    });
  }

  /** Puts the row back at the end of the outbox, as it was (same message id), for the relay to try again. */
  async replay(id: number): Promise<void> {
    await this.resolve(id, 'replayed', async (exec) => {
      await exec.execute(
        `INSERT INTO ${this.t('outbox')} (${RAW_COLUMNS.join(', ')}) SELECT ${RAW_COLUMNS.join(', ')} FROM ${this.t('outbox_parked')} WHERE id = ?`,
        [id],
      );
    });
  }

  /** Gives the message up for good; the row stays listed (resolved) until the retention removes it. */
  async discard(id: number): Promise<void> {
    await this.resolve(id, 'discarded', async () => undefined);
  }

  private async resolve(id: number, resolution: 'replayed' | 'discarded', act: (exec: SqlExecutor) => Promise<void>): Promise<void> {
    await this.driver.transaction(async (exec) => {
      const rows = await exec.query<Row>(`SELECT resolution FROM ${this.t('outbox_parked')} WHERE id = ?${this.driver.dialect.forUpdate}`, [id]);
      if (!rows[0]) throw new NotFoundError('parked outbox message', id);
      if (rows[0].resolution != null) throw new IllegalStateError(`parked outbox message ${id} was already ${String(rows[0].resolution)}`);
      await act(exec);
      await exec.execute(`UPDATE ${this.t('outbox_parked')} SET resolved_at = ?, resolution = ? WHERE id = ?`, [this.now(), resolution, id]);
    });
  }
}
