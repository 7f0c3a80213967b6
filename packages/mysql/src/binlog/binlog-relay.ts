import type { ConnectionOptions } from 'mysql2';
import {
  defaultLogger,
  systemClock,
  type Broker,
  type Clock,
  type Logger,
  type OutboxLag,
  type Relay,
  type SqlExecutor,
} from '@concord/core';
import { BackgroundLoop, backoffDelay, decodeOutboxRows, ENVELOPE_COLUMNS, hashPartitionKey, publishOrPark, type OutboxRecord, type OutboxRow } from '@concord/core/spi';
import { concordTableName } from '../mysql-dialect.js';
import { MysqlConfigError, MysqlConfigReason, mysqlErrno, MysqlErrno } from '../mysql-errors.js';
import { lockName, SessionLock } from '../mysql-locks.js';
import type { MysqlConnection } from '../mysql-pool.js';
import type { MysqlStore } from '../mysql-store.js';
import { BinlogPositions } from './binlog-positions.js';
import { binlogPrivilegeError, currentBinlogEnd, verifyBinlogSettings, type BinlogPosition } from './binlog-settings.js';
import { BinlogTail, type OutboxCommit } from './binlog-tail.js';

export interface MysqlBinlogRelayOptions {
  readonly store: MysqlStore<MysqlConnection>;
  readonly broker: Broker;
  /** How to reach the server for the replication stream. Default: the store's URI. */
  readonly connection?: string | ConnectionOptions;
  /** Names this relay's saved position and its lock (one active relay per name). Default 'default'. */
  readonly name?: string;
  /** Replica id for the binlog stream; must be unique among the server's replicas. Default: from the database and name. */
  readonly serverId?: number;
  /** Messages per broker publish. Default 500. */
  readonly batchSize?: number;
  /** Messages read ahead of the broker before the stream is paused. Default 10,000. */
  readonly maxPendingMessages?: number;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

export interface MysqlBinlogRelayStats {
  readonly published: number;
  /** Messages moved to `store.parkedOutbox` (refused by the broker for good, or undecodable). */
  readonly parked: number;
  readonly bootstraps: number;
  readonly sessions: number;
  readonly failures: number;
}

const relayBackoff = { initialMs: 100, maxMs: 5_000, multiplier: 2, jitter: 0.2 };
/** With no outbox traffic, the position is still saved now and then so a restart has less to reread. */
const IDLE_SAVE_BYTES = 1 << 20;
const IDLE_SAVE_MS = 10_000;
const LEADER_CHECK_MS = 2_000;

/**
 * Publishes outbox rows by reading them from the row-based binary log instead of polling:
 * commit order, no polling queries, no UPDATE per message. Its progress (binlog file and
 * position) is saved in the service's database only after the broker accepted the messages,
 * in the same transaction that deletes the published rows, so a stop or crash at any point
 * repeats messages but never skips one. One relay per `name` is active at a time (`GET_LOCK`);
 * others wait as standbys.
 */
export class MysqlBinlogRelay implements Relay {
  private readonly positions: BinlogPositions;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly name: string;
  private readonly serverId: number;
  private readonly batchSize: number;
  private readonly loop = new BackgroundLoop((signal) => this.run(signal));
  private stats = { published: 0, parked: 0, bootstraps: 0, sessions: 0, failures: 0 };
  private tailing = false;
  private readonly tailingWaiters = new Set<() => void>();

  constructor(private readonly options: MysqlBinlogRelayOptions) {
    this.positions = new BinlogPositions(options.store.driver);
    this.logger = (options.logger ?? defaultLogger()).child({ component: 'mysql-binlog-relay' });
    this.clock = options.clock ?? systemClock;
    this.name = options.name ?? 'default';
    this.batchSize = options.batchSize ?? 500;
    const database = options.store.driver.database;
    this.serverId = options.serverId ?? 1000 + (hashPartitionKey(`${database}/${this.name}`) % 2_000_000_000);
  }

  private get driver() {
    return this.options.store.driver;
  }

  /**
   * Checks the server (log_bin on, binlog_format ROW, privileges) and creates the position
   * table. Throws a `MysqlConfigError` naming the setting to change.
   */
  async prepare(): Promise<void> {
    await this.driver.run((exec) => verifyBinlogSettings(exec, this.driver.database));
    if (!this.connection()) {
      throw new MysqlConfigError(
        MysqlConfigReason.NO_DATABASE,
        'binlog tailing needs connection settings for the replication stream: open the store with `connectionString`, or pass `connection`',
      );
    }
    await this.positions.migrate();
  }

  private connection(): string | ConnectionOptions | undefined {
    return this.options.connection ?? this.driver.connectionString;
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  lag(): Promise<OutboxLag> {
    return this.options.store.outbox.lag();
  }

  getStats(): MysqlBinlogRelayStats {
    return { ...this.stats };
  }

  /** Resolves once the relay reads the binary log (after its bootstrap, if it needed one). */
  whenTailing(timeoutMs = 30_000): Promise<void> {
    if (this.tailing) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.tailingWaiters.delete(done);
        reject(new Error(`binlog relay not tailing after ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.tailingWaiters.add(done);
    });
  }

  private setTailing(tailing: boolean): void {
    this.tailing = tailing;
    if (!tailing) return;
    for (const waiter of this.tailingWaiters) waiter();
    this.tailingWaiters.clear();
  }

  private async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        await this.session(signal, () => (failures = 0));
      } catch (error) {
        if (signal.aborted) return;
        failures++;
        this.stats.failures++;
        const level = error instanceof MysqlConfigError ? 'error' : 'warn';
        this.logger[level]({ err: error, failures }, 'binlog relay stopped reading; starting again from the saved position');
        await this.clock.sleep(backoffDelay(relayBackoff, failures), signal);
      }
    }
  }

  /** Leads, reads from the saved position (bootstrapping when there is none) and publishes until something fails. */
  private async session(signal: AbortSignal, healthy: () => void): Promise<void> {
    const lock = await SessionLock.acquire(this.driver, lockName(this.driver.database, `binlog:${this.name}`), {
      signal,
      onWait: () => this.logger.info({ relay: this.name }, 'another binlog relay is active; standing by'),
    });
    if (!lock) return;
    let tail: BinlogTail | undefined;
    try {
      this.stats.sessions++;
      await this.prepare();
      const from = (await this.positions.load(this.name)) ?? (await this.bootstrap(signal));
      if (signal.aborted) return;
      tail = new BinlogTail({
        connection: this.connection()!,
        database: this.driver.database,
        table: concordTableName('outbox'),
        serverId: this.serverId,
        from,
        maxPendingMessages: this.options.maxPendingMessages ?? 10_000,
        logger: this.logger,
      });
      await tail.start();
      this.setTailing(true);
      this.logger.info({ relay: this.name, from, serverId: this.serverId }, 'tailing the binary log');
      await this.publishLoop(tail, lock, from, signal, healthy);
    } catch (error) {
      throw await this.classify(error);
    } finally {
      this.setTailing(false);
      await tail?.stop();
      await lock.release();
    }
  }

  private async publishLoop(tail: BinlogTail, lock: SessionLock, from: BinlogPosition, signal: AbortSignal, healthy: () => void): Promise<void> {
    let saved = { at: from, when: this.clock.now() };
    let lastCheck = this.clock.now();
    while (!signal.aborted) {
      if (tail.failure) throw tail.failure;
      if (this.clock.now() - lastCheck >= LEADER_CHECK_MS) {
        await lock.check();
        lastCheck = this.clock.now();
      }
      const commits = tail.take(this.batchSize);
      if (commits.length > 0) {
        saved = { at: await this.publish(commits, signal), when: this.clock.now() };
        healthy();
        continue;
      }
      // Nothing to publish: everything read is published, so the last commit read is a safe
      // restart point; save it now and then so a restart does not reread a long quiet log.
      const idle = tail.lastCommit;
      const far = idle.file !== saved.at.file || idle.position - saved.at.position >= IDLE_SAVE_BYTES;
      if (far && this.clock.now() - saved.when >= IDLE_SAVE_MS) {
        await this.driver.transaction((exec) => this.positions.save(exec, this.name, idle, this.clock.now()));
        saved = { at: idle, when: this.clock.now() };
      }
      healthy();
      await tail.wait(LEADER_CHECK_MS, signal);
    }
  }

  /** Broker first, then (one transaction) the position and the deletion of the published rows. */
  private async publish(commits: readonly OutboxCommit[], signal: AbortSignal): Promise<BinlogPosition> {
    const records = commits.flatMap((c) => c.records);
    for (const u of commits.flatMap((c) => c.undecodable)) {
      if (await this.options.store.outbox.park(u.position, u.reason)) this.onParked(u, u.reason);
    }
    const started = this.clock.now();
    // A message the broker refuses for good is parked (its row leaves the outbox); the rest go on.
    const { parked } = await publishOrPark(this.options.broker, this.options.store.outbox, records, this.onParked);
    const published = this.clock.now();
    const last = commits[commits.length - 1]!;
    // Rows the log holds only as SQL text are still in the table (nothing deletes unpublished
    // rows): publish what the table holds before moving the position past them.
    if (last.statementLogged) this.stats.published += await this.drainTable(signal);
    const at = last.at;
    await this.driver.transaction(async (exec) => {
      await this.positions.save(exec, this.name, at, this.clock.now());
      await deleteRows(exec, this.driver.dialect.table('outbox'), records.map((r) => r.position));
    });
    this.stats.published += records.length - parked.length;
    this.logger.debug({ messages: records.length, publishMs: published - started, saveMs: this.clock.now() - published, at }, 'published');
    return at;
  }

  /**
   * First start (or saved position no longer in the log): note the end of the log, publish
   * every row the outbox still holds, then tail from that end. Rows committed meanwhile may
   * go out twice, never zero times.
   */
  private async bootstrap(signal: AbortSignal): Promise<BinlogPosition> {
    this.stats.bootstraps++;
    const start = await this.driver.run((exec) => currentBinlogEnd(exec));
    const published = await this.drainTable(signal);
    if (signal.aborted) return start;
    await this.driver.transaction((exec) => this.positions.save(exec, this.name, start, this.clock.now()));
    this.stats.published += published;
    this.logger.info({ relay: this.name, published, start }, 'bootstrapped: outbox drained, tailing from the end of the log');
    return start;
  }

  /** Publishes and deletes every row the outbox holds now, in position order; returns how many were unsent. */
  private async drainTable(signal: AbortSignal): Promise<number> {
    const table = this.driver.dialect.table('outbox');
    let after = 0;
    let published = 0;
    while (!signal.aborted) {
      // READ COMMITTED locking reads wait for the row locks of transactions that are in the
      // log before `start` but not yet visible, so none of them is missed; no gap locks are
      // taken, so producers carry on meanwhile.
      const scanned = await this.driver.transaction(
        async (exec) => {
          const rows = await exec.query<OutboxRow & { sent_at: string | null }>(
            `SELECT position, shard, sent_at, ${ENVELOPE_COLUMNS.join(', ')} FROM ${table} WHERE position > ? ORDER BY position LIMIT ? FOR UPDATE`,
            [after, this.batchSize],
          );
          // This transaction holds the rows' locks: what cannot flow is parked inside it.
          const parkedOutbox = this.options.store.parkedOutbox;
          const park = async (position: number, reason: string) => {
            const moved = await parkedOutbox.parkIn(exec, position, reason);
            if (moved) this.onParked({ position }, reason);
            return moved;
          };
          const { records, undecodable } = decodeOutboxRows(rows.filter((r) => r.sent_at === null));
          for (const u of undecodable) await park(u.position, u.reason);
          const sent = await publishOrPark(this.options.broker, { park }, records, () => undefined);
          await deleteRows(exec, table, rows.map((r) => Number(r.position)));
          return { rows, unsent: sent.published.length };
        },
        { isolationLevel: 'READ COMMITTED' },
      );
      published += scanned.unsent;
      const rows = scanned.rows;
      if (rows.length > 0) after = Number(rows[rows.length - 1]!.position);
      if (rows.length < this.batchSize) break;
    }
    return published;
  }

  private readonly onParked = (record: Pick<OutboxRecord, 'position'>, reason: string): void => {
    this.stats.parked++;
    this.logger.error({ position: record.position, reason }, 'outbox row parked (refused by the broker, or undecodable); the relay goes on without it');
  };

  private async classify(error: unknown): Promise<unknown> {
    const privileges = binlogPrivilegeError(error);
    if (privileges) return privileges;
    if (mysqlErrno(error) === MysqlErrno.MASTER_FATAL_READING_BINLOG) {
      // The saved file was purged (or is otherwise unreadable): the outbox still holds every
      // unpublished row, so start over with a bootstrap rather than give up.
      this.logger.warn({ err: error, relay: this.name }, 'saved binlog position is not readable any more; bootstrapping again');
      await this.positions.forget(this.name).catch(() => {});
    }
    return error;
  }
}

async function deleteRows(exec: SqlExecutor, table: string, positions: readonly number[]): Promise<void> {
  for (let i = 0; i < positions.length; i += 500) {
    const part = positions.slice(i, i + 500);
    await exec.execute(`DELETE FROM ${table} WHERE position IN (${part.map(() => '?').join(', ')})`, part);
  }
}
