import type { ClientConfig } from 'pg';
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import type { Logger } from '@concord/core';
import { decodeOutboxRows, type OutboxRecord, type OutboxRow, type UndecodableOutboxRow } from '@concord/core/spi';
import { formatLsn, parseLsn } from './lsn.js';

/** One committed transaction's outbox inserts, or (no records) a position safe to confirm. */
export interface WalTransaction {
  readonly records: OutboxRecord[];
  /** Inserted rows that do not decode: the relay parks them. */
  readonly undecodable: UndecodableOutboxRow[];
  /** `commitEndLsn` of the transaction, or the WAL position of a keepalive. */
  readonly endLsn: bigint;
}

export interface WalStreamOptions {
  readonly connection: ClientConfig;
  readonly slot: string;
  readonly publication: string;
  readonly schema: string;
  readonly table: string;
  readonly logger: Logger;
  /**
   * The slot's `confirmed_flush_lsn` when the stream starts. Every status update carries at
   * least this: PostgreSQL 15 takes a lower flush position as the new confirmed one, which
   * would replay old transactions after the next restart.
   */
  readonly confirmedLsn: bigint;
  /** Called in commit order. */
  readonly onTransaction: (tx: WalTransaction) => void;
  /** The server asked for a status reply (it does so again and again while it shuts down). */
  readonly onReplyRequested?: () => void;
}

interface Socketed {
  _connection?: { stream?: { pause?: () => void; resume?: () => void } };
}

/**
 * The outbox's inserts read from a logical replication slot (pgoutput), regrouped into whole
 * committed transactions. Confirms a position only when told to (`acknowledge`), so the
 * slot never moves past what the broker has not accepted.
 */
export class WalStream {
  private readonly service: LogicalReplicationService;
  private readonly plugin: PgoutputPlugin;
  private current: { records: OutboxRecord[]; undecodable: UndecodableOutboxRow[] } | undefined;
  private acknowledged: bigint;
  private paused = false;
  /** Settles when the stream ends: resolves on `stop()`, rejects on a failure. */
  readonly ended: Promise<void>;
  private endWith!: (error?: unknown) => void;
  private stopped = false;

  constructor(private readonly options: WalStreamOptions) {
    this.acknowledged = options.confirmedLsn;
    // Acknowledgements are manual and only after the broker accepted; the library's timer
    // would confirm the last *received* position, so it is off (timeoutSeconds: 0).
    this.service = new LogicalReplicationService(options.connection, {
      acknowledge: { auto: false, timeoutSeconds: 0 },
      flowControl: { enabled: false },
    });
    this.plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [options.publication] });
    this.ended = new Promise<void>((resolve, reject) => {
      this.endWith = (error) => (error === undefined ? resolve() : reject(error));
    });
    this.ended.catch(() => undefined);
    this.service.on('data', (_lsn: string, message: Pgoutput.Message) => this.onMessage(message));
    this.service.on('heartbeat', (lsn: string, _at: number, shouldRespond: boolean) => this.onKeepalive(lsn, shouldRespond));
    this.service.on('error', (error: Error) => this.fail(error));
  }

  /** Resolves once the server streams; the stream then runs until `stop()` or a failure. */
  async start(): Promise<void> {
    const started = new Promise<void>((resolve) => this.service.once('start', () => resolve()));
    // 0/0: the server resumes from the slot's confirmed position, never from our memory.
    const streaming = this.service.subscribe(this.plugin, this.options.slot, '0/00000000');
    streaming.then(
      () => this.fail(this.stopped ? undefined : new Error('replication stream ended')),
      (error: unknown) => this.fail(error),
    );
    await Promise.race([started, this.ended]);
  }

  private onMessage(message: Pgoutput.Message): void {
    switch (message.tag) {
      case 'begin':
        this.current = { records: [], undecodable: [] };
        return;
      case 'insert':
        if (message.relation.schema === this.options.schema && message.relation.name === this.options.table) {
          const { records, undecodable } = decodeOutboxRows([message.new as OutboxRow]);
          const current = (this.current ??= { records: [], undecodable: [] });
          current.records.push(...records);
          current.undecodable.push(...undecodable);
        }
        return;
      case 'commit': {
        const current = this.current ?? { records: [], undecodable: [] };
        this.current = undefined;
        this.options.onTransaction({ ...current, endLsn: parseLsn(message.commitEndLsn!) });
        return;
      }
      default:
        return;
    }
  }

  private onKeepalive(lsn: string, shouldRespond: boolean): void {
    // Between transactions, everything up to the keepalive's position has been received:
    // once the relay has published what came before, it may confirm this position too, so
    // WAL written by other tables is not pinned while the outbox is idle.
    if (this.current === undefined) this.options.onTransaction({ records: [], undecodable: [], endLsn: parseLsn(lsn) });
    if (shouldRespond) {
      this.sendStatus(false);
      this.options.onReplyRequested?.();
    }
  }

  /** Confirms that everything up to `lsn` (a commit's end) is safely published. */
  acknowledge(lsn: bigint): void {
    if (lsn > this.acknowledged) this.acknowledged = lsn;
    this.sendStatus(false);
  }

  /** Sends the confirmed position again, asking the server for a keepalive back. */
  ping(): void {
    this.sendStatus(true);
  }

  private sendStatus(ping: boolean): void {
    if (this.stopped || this.acknowledged === 0n) return;
    // The library reports "lsn + 1" as flushed; PostgreSQL expects the commit's end position
    // itself (one byte further could skip a transaction whose commit starts right there).
    void this.service.acknowledge(formatLsn(this.acknowledged - 1n), ping).catch(() => undefined);
  }

  /** Back-pressure: stops reading the socket until `resume()`. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    (this.service as unknown as Socketed)._connection?.stream?.pause?.();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    (this.service as unknown as Socketed)._connection?.stream?.resume?.();
  }

  /** Ends the stream with `error` (closing the replication connection); `ended` rejects with it. */
  abort(error: unknown): void {
    this.fail(error);
  }

  private fail(error: unknown): void {
    if (error !== undefined) this.options.logger.debug({ err: error }, 'replication stream failed');
    this.endWith(error);
    if (!this.stopped) {
      this.stopped = true;
      void this.service.destroy().catch(() => undefined);
    }
  }

  /** Sends the final confirmed position and closes the replication connection. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.sendStatus(false);
    this.stopped = true;
    await this.service.destroy().catch(() => undefined);
    this.endWith();
  }
}
