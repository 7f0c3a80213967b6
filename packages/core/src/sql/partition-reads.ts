import { ENVELOPE_COLUMNS, type EnvelopeRow } from './envelope-row.js';
import type { SqlDriver } from './sql-driver.js';

export type MessageRow = EnvelopeRow & { msg_offset: number | string };

interface PartitionRead {
  readonly channel: string;
  readonly partition: number;
  readonly after: number;
  readonly limit: number;
  readonly resolve: (rows: MessageRow[]) => void;
  readonly reject: (error: unknown) => void;
}

/** More reads than this in one turn go out as several statements (each statement text is prepared once per size). */
const MAX_READS_PER_STATEMENT = 16;

/**
 * Reads of `broker_messages` partitions. On a server, the reads asked for in one turn of the
 * event loop (a publish wakes several partition readers at once) go out as one statement, a
 * UNION ALL of the per-partition reads: one round trip and one commit instead of one each.
 * On SQLite a read is a local call, so each goes out at once.
 */
export class PartitionReads {
  private pending: PartitionRead[] = [];
  private scheduled = false;
  private readonly coalesce: boolean;

  constructor(
    private readonly driver: SqlDriver,
    private readonly table: string,
  ) {
    this.coalesce = driver.dialect.name !== 'sqlite';
  }

  /** Messages of one partition past `after`, oldest first, at most `limit`. */
  read(channel: string, partition: number, after: number, limit: number): Promise<MessageRow[]> {
    if (!this.coalesce) {
      return this.driver.run((exec) => exec.query<MessageRow>(this.select(1), [channel, partition, after, limit]));
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ channel, partition, after, limit, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      // After the current turn: readers woken together ask within it.
      setImmediate(() => {
        this.scheduled = false;
        const reads = this.pending;
        this.pending = [];
        // run() hands every failure to its readers' promises.
        for (let i = 0; i < reads.length; i += MAX_READS_PER_STATEMENT) this.run(reads.slice(i, i + MAX_READS_PER_STATEMENT)).catch(() => undefined);
      });
    });
  }

  private async run(reads: PartitionRead[]): Promise<void> {
    try {
      const rows = await this.driver.run((exec) =>
        exec.query<MessageRow & { k?: number | string }>(
          this.select(reads.length),
          reads.flatMap((r) => [r.channel, r.partition, r.after, r.limit]),
        ),
      );
      if (reads.length === 1) {
        reads[0]!.resolve(rows);
        return;
      }
      const split: MessageRow[][] = reads.map(() => []);
      for (const row of rows) {
        const { k, ...message } = row;
        split[Number(k)]!.push(message);
      }
      // UNION ALL keeps no order of its own.
      reads.forEach((r, i) => r.resolve(split[i]!.sort((a, b) => Number(a.msg_offset) - Number(b.msg_offset))));
    } catch (error) {
      for (const r of reads) r.reject(error);
    }
  }

  private readonly statements = new Map<number, string>();

  /** One partition's read; with n > 1, n of them tagged with their index `k`. */
  private select(n: number): string {
    let sql = this.statements.get(n);
    if (sql === undefined) this.statements.set(n, (sql = this.build(n)));
    return sql;
  }

  private build(n: number): string {
    const q = this.driver.dialect.quote('partition');
    const one = (k: number | undefined) =>
      `SELECT ${k === undefined ? '' : `${k} AS k, `}msg_offset, ${ENVELOPE_COLUMNS.join(', ')} FROM ${this.table} ` +
      `WHERE channel = ? AND ${q} = ? AND msg_offset > ? ORDER BY msg_offset LIMIT ?`;
    if (n === 1) return one(undefined);
    return Array.from({ length: n }, (_, k) => `SELECT * FROM (${one(k)}) AS r${k}`).join(' UNION ALL ');
  }
}
