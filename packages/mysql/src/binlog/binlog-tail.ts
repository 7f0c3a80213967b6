import ZongJi, { type AnyBinlogEvent, type QueryEvent, type WriteRowsEvent } from '@vlasky/zongji';
import type { ConnectionOptions } from 'mysql2';
import { type Logger } from '@concord/core';
import { ENVELOPE_COLUMNS, WakeSignal, decodeOutboxRows, type OutboxRecord, type OutboxRow, type UndecodableOutboxRow } from '@concord/core/spi';
import { MysqlConfigError, MysqlConfigReason } from '../mysql-errors.js';
import type { BinlogPosition } from './binlog-settings.js';

/** The outbox rows one committed transaction wrote, and where the log stands after it. */
export interface OutboxCommit {
  readonly records: readonly OutboxRecord[];
  /** Inserted rows that do not decode: the relay parks them. */
  readonly undecodable: readonly UndecodableOutboxRow[];
  readonly at: BinlogPosition;
  /**
   * The transaction also inserted outbox rows logged as SQL text (a session with a statement
   * or mixed binlog_format): their values are not in the log, so the relay reads the table.
   */
  readonly statementLogged?: boolean;
}

export interface BinlogTailOptions {
  readonly connection: string | ConnectionOptions;
  readonly database: string;
  /** The outbox table's name as the log spells it (unquoted). */
  readonly table: string;
  /** Replica id of this reader: unique among everything reading the server's binary log. */
  readonly serverId: number;
  readonly from: BinlogPosition;
  /** Buffered messages above which the binlog connection is paused. */
  readonly maxPendingMessages: number;
  readonly logger: Logger;
}

const REQUIRED = ['position', 'shard', ...ENVELOPE_COLUMNS] as const;

/**
 * One reading of the binary log from a position, with zongji: collects the outbox inserts of
 * each transaction and hands them over whole, in commit order, when its commit (XID) arrives.
 * Any error ends the reading for good; the relay starts a new one from its saved position.
 */
export class BinlogTail {
  private readonly zongji: ZongJi;
  private readonly queue: OutboxCommit[] = [];
  private readonly wakeSignal = new WakeSignal();
  private current: OutboxRecord[] = [];
  private currentUndecodable: UndecodableOutboxRow[] = [];
  private currentStatementLogged = false;
  private queuedMessages = 0;
  private paused = false;
  private stopped = false;
  /** Set once the reading failed; nothing more is delivered. */
  failure: Error | undefined;
  /** The log position after the last commit seen, with or without outbox rows. */
  lastCommit: BinlogPosition;

  constructor(private readonly options: BinlogTailOptions) {
    this.lastCommit = options.from;
    const dsn = typeof options.connection === 'string' ? { uri: options.connection } : options.connection;
    this.zongji = new ZongJi(dsn);
    this.zongji.on('binlog', (event) => {
      try {
        this.onEvent(event);
      } catch (error) {
        this.fail(error as Error);
      }
    });
    this.zongji.on('error', (error) => this.fail(error));
  }

  /** Resolves once the server accepted the dump request's preamble; errors come by `failure`. */
  start(): Promise<void> {
    const { from, database, table, serverId } = this.options;
    return new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.zongji.once('error', onError);
      this.zongji.once('ready', () => {
        this.zongji.off('error', onError);
        resolve();
      });
      this.zongji.start({
        serverId,
        filename: from.file,
        position: from.position,
        includeEvents: ['tablemap', 'writerows', 'xid', 'query'],
        includeSchema: { [database]: [table] },
      });
    });
  }

  private onEvent(event: AnyBinlogEvent): void {
    if (this.failure || this.stopped) return;
    switch (event.getEventName()) {
      case 'writerows':
        this.onRows(event as WriteRowsEvent);
        break;
      case 'xid':
        this.onCommit(event.nextPosition);
        break;
      case 'query': {
        const query = event as QueryEvent;
        // Non-transactional engines commit with a COMMIT query instead of an XID.
        if (/^\s*COMMIT\b/i.test(query.query)) this.onCommit(query.nextPosition);
        else if (this.insertsIntoOutbox(query)) {
          this.currentStatementLogged = true;
          this.options.logger.error(
            {
              err: new MysqlConfigError(
                MysqlConfigReason.STATEMENT_LOGGED_OUTBOX,
                'an outbox insert reached the binary log as a statement (a session runs with binlog_format STATEMENT or ' +
                  'MIXED): its row values are not in the log. Keep binlog_format = ROW for every session.',
              ),
              at: { file: this.zongji.options.filename, position: query.nextPosition },
            },
            'statement-logged outbox insert: reading the outbox table instead for this transaction',
          );
        }
        break;
      }
    }
  }

  private onRows(event: WriteRowsEvent): void {
    const table = event.tableMap[event.tableId];
    if (!table || table.parentSchema !== this.options.database || table.tableName !== this.options.table) return;
    for (const row of event.rows) {
      for (const column of REQUIRED) {
        if (!(column in row)) {
          throw new MysqlConfigError(MysqlConfigReason.BINLOG_NOT_ROW, `outbox row in the binary log lacks column ${column} (binlog_row_image?)`);
        }
      }
      const text = (v: unknown) => (Buffer.isBuffer(v) ? v.toString('utf8') : v);
      const fields = Object.fromEntries(Object.entries(row).map(([k, v]) => [k, text(v)])) as unknown as OutboxRow;
      const { records, undecodable } = decodeOutboxRows([fields]);
      this.current.push(...records);
      this.currentUndecodable.push(...undecodable);
    }
  }

  private onCommit(nextPosition: number): void {
    const file = this.zongji.options.filename;
    if (!file || nextPosition <= 0) return;
    this.lastCommit = { file, position: nextPosition };
    if (this.current.length === 0 && this.currentUndecodable.length === 0 && !this.currentStatementLogged) return;
    this.queue.push({ records: this.current, undecodable: this.currentUndecodable, at: this.lastCommit, statementLogged: this.currentStatementLogged });
    this.queuedMessages += this.current.length;
    this.current = [];
    this.currentUndecodable = [];
    this.currentStatementLogged = false;
    this.wakeSignal.wake();
    if (!this.paused && this.queuedMessages >= this.options.maxPendingMessages) {
      this.paused = true;
      this.zongji.connection?.pause();
    }
  }

  private insertsIntoOutbox(query: QueryEvent): boolean {
    const match = /^\s*(?:insert|replace)\b[\s\S]*?\binto\s+(?:`?([^`.\s]+)`?\s*\.\s*)?`?([^`\s(]+)`?/i.exec(query.query);
    if (!match || match[2] !== this.options.table) return false;
    return (match[1] ?? query.schema) === this.options.database;
  }

  /**
   * Whole transactions, oldest first, up to about `maxMessages` messages (at least one
   * transaction), ending early after a statement-logged one.
   */
  take(maxMessages: number): OutboxCommit[] {
    const taken: OutboxCommit[] = [];
    let messages = 0;
    while (this.queue.length > 0 && (taken.length === 0 || messages + this.queue[0]!.records.length <= maxMessages)) {
      const commit = this.queue.shift()!;
      taken.push(commit);
      messages += commit.records.length;
      if (commit.statementLogged) break;
    }
    this.queuedMessages -= messages;
    if (this.paused && this.queuedMessages < this.options.maxPendingMessages / 2) {
      this.paused = false;
      this.zongji.connection?.resume();
    }
    return taken;
  }

  /** True when every commit read so far has been taken. */
  get drained(): boolean {
    return this.queue.length === 0;
  }

  /** Sleeps until a commit with outbox rows arrives, the reading fails, or `timeoutMs` passes. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.queue.length > 0 || this.failure) return Promise.resolve();
    return this.wakeSignal.wait(timeoutMs, signal);
  }

  private fail(error: Error): void {
    if (this.stopped) return;
    this.failure ??= error;
    this.wakeSignal.wake();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2_000);
      this.zongji.once('stopped', () => {
        clearTimeout(timer);
        resolve();
      });
      this.zongji.stop();
    });
  }
}
