import type { ClientConfig } from 'pg';
import {
  defaultBackoff,
  defaultLogger,
  InvalidArgumentError,
  systemClock,
  type Broker,
  type Clock,
  type Logger,
  type OutboxLag,
  type Relay,
} from '@concord/core';
import { BackgroundLoop, backoffDelay, lanesByShard, publishOrPark, type OutboxRecord, type UndecodableOutboxRow } from '@concord/core/spi';
import { formatLsn, parseLsn } from './lsn.js';
import { fetchUnsent } from './outbox-rows.js';
import { checkLogicalReplication, isConnectionError, LogicalReplicationOffError, ReplicationSlotBusyError, sqlState } from './postgres-errors.js';
import type { PostgresPoolClient } from './postgres-pool.js';
import type { PostgresConnectionConfig, PostgresStore } from './postgres-store.js';
import { dropSlot, ensurePublication, ensureSlot, replicationName, slotStatus, type SlotStatus } from './replication-slot.js';
import { WalBatcher } from './wal-batcher.js';
import { WalStream } from './wal-stream.js';

export interface PostgresTailingRelayOptions<C extends PostgresPoolClient> {
  readonly store: PostgresStore<C>;
  readonly broker: Broker;
  /** Where to open the replication connection. Default: the store's connection string. */
  readonly replicationConnection?: PostgresConnectionConfig;
  /** Default `concord_<schema>_outbox`. One slot per outbox; PostgreSQL lets one reader use it at a time. */
  readonly slotName?: string;
  /** Default `concord_<schema>_outbox`. */
  readonly publicationName?: string;
  /** Drop the slot on `stop()`, so it pins no WAL. Default false: a restart resumes where it stopped. */
  readonly dropSlotOnStop?: boolean;
  /** What happens to rows the broker accepted: marked sent (kept `retainSentMs`), or deleted. Default `mark-sent`. */
  readonly onPublished?: 'mark-sent' | 'delete';
  /** Messages per broker publish. Default 2000. */
  readonly maxBatchSize?: number;
  /** Messages received but not yet published before the stream is paused. Default 20,000. */
  readonly maxPendingMessages?: number;
  /** Broker publishes in flight at once, each for a disjoint set of shards. Default 4. */
  readonly publishConcurrency?: number;
  /**
   * When the server asks for a reply while one batch has been publishing this long, the stream
   * is closed and reopened later. A shutting-down server waits for its walsenders' clients to
   * confirm everything; holding the stream while publishing is stuck would block the shutdown.
   * Default 3 s.
   */
  readonly stallTimeoutMs?: number;
  /** How often the confirmed position is sent (and a keepalive asked for). Default 5 s. */
  readonly statusIntervalMs?: number;
  /** Warn when the slot retains more WAL than this. Default 1 GiB. */
  readonly retentionWarnBytes?: number;
  readonly retentionCheckIntervalMs?: number;
  readonly retainSentMs?: number;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

export interface PostgresTailingRelayStats {
  readonly published: number;
  /** Messages moved to `store.parkedOutbox` (refused by the broker for good, or undecodable). */
  readonly parked: number;
  readonly transactions: number;
  readonly confirmedLsn: string | null;
  readonly connects: number;
  readonly failures: number;
  readonly lastRetention: SlotStatus | undefined;
}

/**
 * A relay that tails the WAL instead of polling: the outbox's inserts arrive through a logical
 * replication slot, whole transactions in commit order; each batch is published, its rows
 * marked sent (or deleted), and only then its commit position confirmed to the server. After
 * a crash or stop, streaming resumes from the confirmed position, so nothing is skipped.
 */
export class PostgresTailingRelay<C extends PostgresPoolClient = PostgresPoolClient> implements Relay {
  readonly slot: string;
  readonly publication: string;
  private readonly connection: ClientConfig;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly loop = new BackgroundLoop((signal) => this.run(signal));
  private readonly stats = { published: 0, parked: 0, transactions: 0, connects: 0, failures: 0 };
  private confirmed: bigint | undefined;
  private lastRetention: SlotStatus | undefined;
  private lastPurge = 0;

  constructor(private readonly options: PostgresTailingRelayOptions<C>) {
    const schema = options.store.schema;
    this.slot = replicationName(options.slotName ?? `concord_${schema}_outbox`);
    this.publication = replicationName(options.publicationName ?? `concord_${schema}_outbox`);
    const config = options.replicationConnection ?? options.store.connectionConfig;
    if (!config) {
      throw new InvalidArgumentError(
        'tailing relay: give replicationConnection (the store was opened from a pool, so its URL is unknown)',
      );
    }
    this.connection = typeof config === 'string' ? { connectionString: config } : config;
    this.logger = (options.logger ?? defaultLogger()).child({ component: 'postgres-tailing-relay', slot: this.slot });
    this.clock = options.clock ?? systemClock;
  }

  start(): void {
    this.loop.start();
  }

  /** Publishes what is in flight, confirms it, closes the stream (and drops the slot if configured). */
  async stop(): Promise<void> {
    await this.loop.stop();
    if (this.options.dropSlotOnStop) await this.dropSlot();
  }

  lag(): Promise<OutboxLag> {
    return this.options.store.outbox.lag();
  }

  getStats(): PostgresTailingRelayStats {
    return {
      ...this.stats,
      confirmedLsn: this.confirmed === undefined ? null : formatLsn(this.confirmed),
      lastRetention: this.lastRetention,
    };
  }

  /**
   * Checks that the server can stream logical changes (`wal_level=logical`, replication slots
   * allowed). Throws `LogicalReplicationOffError` naming the setting. Call it before `start()`;
   * the relay's loop checks again on each connect and logs the same error at error level.
   */
  async prepare(): Promise<void> {
    const rows = await this.options.store.driver.run((exec) =>
      exec.query<{ wal_level: string; slots: string }>(
        "SELECT current_setting('wal_level') AS wal_level, current_setting('max_replication_slots') AS slots",
      ),
    );
    checkLogicalReplication({ walLevel: rows[0]?.wal_level ?? 'unknown', maxReplicationSlots: rows[0]?.slots ?? '0' });
  }

  /** How much WAL the slot pins; logs a warning above `retentionWarnBytes`. */
  async checkRetention(): Promise<SlotStatus> {
    const status = await this.options.store.driver.run((exec) => slotStatus(exec, this.slot));
    this.lastRetention = status;
    const limit = this.options.retentionWarnBytes ?? 1024 ** 3;
    if (status.exists && status.retainedWalBytes > limit) {
      this.logger.warn(
        { retainedWalBytes: status.retainedWalBytes, limitBytes: limit, active: status.active },
        'replication slot retains a lot of WAL: is the relay keeping up (or is an abandoned slot pinning it)?',
      );
    }
    return status;
  }

  /** Drops the slot (it must not be streaming). Returns false when it did not exist. */
  async dropSlot(): Promise<boolean> {
    for (let i = 0; ; i++) {
      const status = await this.options.store.driver.run((exec) => slotStatus(exec, this.slot));
      if (!status.exists) return false;
      // The walsender of a just-closed stream may take a moment to let go of the slot.
      if (!status.active || i >= 50) return this.options.store.driver.run((exec) => dropSlot(exec, this.slot));
      await this.clock.sleep(100);
    }
  }

  private async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        const confirmedLsn = await this.setup(signal);
        failures = 0;
        await this.stream(confirmedLsn, signal);
      } catch (raw) {
        if (signal.aborted) return;
        const error = sqlState(raw) === '55006' ? new ReplicationSlotBusyError(this.slot, raw) : raw;
        failures++;
        this.stats.failures++;
        const level =
          error instanceof LogicalReplicationOffError ? 'error' : error instanceof ReplicationSlotBusyError && failures > 1 ? 'debug' : 'warn';
        this.logger[level]({ err: error, failures }, 'replication stream failed; reconnecting');
        await this.clock.sleep(backoffDelay(defaultBackoff, failures), signal);
      }
    }
  }

  /** Publication and slot, created when missing; returns the slot's confirmed position. */
  private async setup(signal: AbortSignal): Promise<bigint> {
    await this.prepare();
    const { driver } = this.options.store;
    const table = `${this.options.store.schema}.outbox`;
    const created = await driver.run(async (exec) => {
      await ensurePublication(exec, this.publication, table);
      return ensureSlot(exec, this.slot);
    });
    if (created) {
      this.logger.info({ publication: this.publication }, 'replication slot created');
      // The slot sees only what commits from now on: publish what is already waiting first.
      await this.catchUp(signal);
    }
    const rows = await driver.run((exec) =>
      exec.query<{ lsn: string | null }>('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = ?', [
        this.slot,
      ]),
    );
    return rows[0]?.lsn ? parseLsn(rows[0].lsn) : 0n;
  }

  private async catchUp(signal: AbortSignal): Promise<void> {
    const { store } = this.options;
    for (;;) {
      const { records, undecodable } = await store.driver.run((exec) =>
        fetchUnsent(exec, `${store.schema}.outbox`, this.options.maxBatchSize ?? 2000),
      );
      if (records.length === 0 && undecodable.length === 0) return;
      await this.publishAndSettle({ records, undecodable }, signal);
    }
  }

  private parked(position: number, reason: string, log: string): void {
    this.stats.parked++;
    this.logger.error({ position, reason }, `${log}; the relay goes on without it`);
  }

  private async stream(confirmedLsn: bigint, signal: AbortSignal): Promise<void> {
    this.confirmed = confirmedLsn;
    const batcher = new WalBatcher({
      maxBatchSize: this.options.maxBatchSize ?? 2000,
      maxPendingMessages: this.options.maxPendingMessages ?? 20_000,
      stallTimeoutMs: this.options.stallTimeoutMs ?? 3_000,
      clock: this.clock,
      logger: this.logger,
      publish: (batch, abort, onConnectionLost) => this.publishAndSettle(batch, abort, onConnectionLost),
      onConfirmed: (lsn, transactions) => {
        this.stats.transactions += transactions;
        if (lsn > (this.confirmed ?? 0n)) this.confirmed = lsn;
      },
    });
    const wal = new WalStream({
      connection: this.connection,
      slot: this.slot,
      publication: this.publication,
      schema: this.options.store.schema,
      table: 'outbox',
      logger: this.logger,
      confirmedLsn,
      onTransaction: (tx) => batcher.push(tx),
      onReplyRequested: () => batcher.replyRequested(),
    });
    batcher.attach(wal);

    const status = setInterval(() => wal.ping(), this.options.statusIntervalMs ?? 5_000);
    const retention = setInterval(
      () => void this.checkRetention().catch((error: unknown) => this.logger.debug({ err: error }, 'retention check failed')),
      this.options.retentionCheckIntervalMs ?? 60_000,
    );
    try {
      await wal.start();
      this.stats.connects++;
      this.logger.debug({ from: formatLsn(confirmedLsn) }, 'streaming the outbox from the WAL');
      await this.checkRetention().catch(() => undefined);
      const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      while (!signal.aborted) {
        await Promise.race([wal.ended, stopped, this.clock.sleep(60_000, signal)]);
        await this.purgeNowAndThen();
      }
    } finally {
      clearInterval(status);
      clearInterval(retention);
      // Whatever is being published finishes and is confirmed before the connection closes.
      await batcher.close();
      await wal.stop();
    }
  }

  /** Publishes records (retrying until it works or `signal` aborts), then marks or deletes them. */
  private async publishAndSettle(
    { records, undecodable }: { records: readonly OutboxRecord[]; undecodable: readonly UndecodableOutboxRow[] },
    signal: AbortSignal,
    onConnectionLost?: (error: unknown) => void,
  ): Promise<void> {
    const { store } = this.options;
    for (const u of undecodable) {
      const moved = await this.retrying(signal, onConnectionLost, () => store.outbox.park(u.position, u.reason));
      if (moved) this.parked(u.position, u.reason, 'undecodable outbox row parked');
    }
    const lanes = lanesByShard(records, Math.max(1, this.options.publishConcurrency ?? 4));
    const done = new Set<number>();
    // A message the broker refuses for good is parked (its row leaves the outbox); the rest go on.
    let parked = 0;
    const onParked = (r: OutboxRecord, reason: string) => {
      parked++;
      this.parked(r.position, reason, 'broker refuses an outbox message: parked');
    };
    await this.retrying(signal, onConnectionLost, async () => {
      const results = await Promise.allSettled(
        lanes.map((lane, i) =>
          done.has(i) ? undefined : publishOrPark(this.options.broker, store.outbox, lane, onParked).then(() => done.add(i)),
        ),
      );
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    });
    const positions = records.map((r) => r.position);
    await this.retrying(signal, onConnectionLost, async () => {
      if (this.options.onPublished !== 'delete') return store.outbox.markSent(positions);
      await store.driver.run((exec) => exec.execute(`DELETE FROM ${store.schema}.outbox WHERE position = ANY(?::bigint[])`, [positions]));
    });
    this.stats.published += records.length - parked;
  }

  /** Runs `fn` until it succeeds; an attempt in flight always finishes, only the retries stop on abort. */
  private async retrying<T>(
    signal: AbortSignal,
    onConnectionLost: ((error: unknown) => void) | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (onConnectionLost && isConnectionError(error)) onConnectionLost(error);
        if (signal.aborted) throw error;
        this.logger.warn({ err: error, attempt }, 'publishing from the WAL failed; retrying');
        await this.clock.sleep(backoffDelay(defaultBackoff, attempt), signal);
        if (signal.aborted) throw error;
      }
    }
  }

  private async purgeNowAndThen(): Promise<void> {
    if (this.options.onPublished === 'delete') return;
    const now = this.clock.now();
    if (now - this.lastPurge < 60_000) return;
    this.lastPurge = now;
    await this.options.store.outbox.purgeSent(this.options.retainSentMs ?? 3_600_000).catch(() => 0);
  }
}
