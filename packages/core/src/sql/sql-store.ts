import { IllegalStateError, NotFoundError } from '../errors.js';
import { newId } from '../ids.js';
import { MessageHeader, type MessageEnvelope } from '../message/envelope.js';
import type { MessageDefinition, PayloadInputOf } from '../message/message-definition.js';
import { partitionFor } from '../message/partition.js';
import { buildEnvelope, type OutboxWriter, type SendOptions } from '../outbox/outbox-writer.js';
import { defaultLogger } from '../logging.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Instrumentation } from '../ports/instrumentation.js';
import type {
  DeadLetter,
  DeadLetterFilter,
  DeadLetterStore,
  InboxOps,
  NewDeadLetter,
  OutboxLag,
  OutboxReader,
  OutboxRecord,
  SavepointOptions,
  StoreTransaction,
  TransactionOptions,
} from '../ports/store.js';
import { sagaMigrations } from '../saga/saga-schema.js';
import type { SagaStore } from '../saga/saga-store.js';
import { chunk } from '../util/chunk.js';
import { decodeEnvelopeRow, ENVELOPE_COLUMNS, envelopeFromRow, envelopeValues, valuesPlaceholders, type EnvelopeRow } from './envelope-row.js';
import { SqlParkedOutbox } from './parked-outbox.js';
import type { RetentionTask } from '../retention/retention-sweeper.js';
import { storeRetentionTask, type StoreRetentionPolicy } from '../retention/store-retention.js';
import { runMigrations, type Migration } from './migrations.js';
import { writeLater, type SqlDialect, type SqlDriver, type SqlExecutor } from './sql-driver.js';
import { isolationMigrations, sagaExtensionMigrations } from '../isolation/isolation-schema.js';
import { OUTBOX_SHARDS, storeMigrations } from './store-schema.js';
import { reservationMigrations } from '../reservations/reservation-schema.js';
import { timerMigrations } from '../timers/timer-schema.js';
import { sagaVersionMigrations } from '../saga/saga-version-schema.js';

export const OUTBOX_TOPIC = 'concord_outbox';
export const MESSAGE_HEADER_REPLAY_FOR = 'concord-replay-for';

export interface SqlStoreOptions {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Extra migration sets owned by other Concord modules (sagas, barrier...), run by `migrate`. */
  readonly extraMigrations?: ReadonlyArray<{ component: string; migrations: readonly Migration[] }>;
  /** Only `traceHeaders` is used here: the trace context stamped on outgoing messages. */
  readonly instrumentation?: Instrumentation;
}

type Row = Record<string, unknown>;
const OUTBOX_INSERT_COLUMNS = [...ENVELOPE_COLUMNS, 'shard'];

/**
 * The Store port written once for every SQL database; the driver supplies the connection
 * and the dialect supplies the few real differences.
 */
export class SqlStore<H = unknown> implements SagaStore<H> {
  readonly dialect: string;
  readonly capabilities;
  readonly outbox: OutboxReader;
  readonly deadLetters: DeadLetterStore;
  readonly parkedOutbox: SqlParkedOutbox;
  protected readonly clock: Clock;
  readonly logger: Logger;
  private readonly committedListeners = new Set<() => void>();
  private readonly extraMigrations: NonNullable<SqlStoreOptions['extraMigrations']>;
  /** @internal the active trace context for outgoing messages, when tracing is on. */
  readonly traceHeaders: (() => Readonly<Record<string, string>> | undefined) | undefined;

  constructor(
    readonly driver: SqlDriver<H>,
    options: SqlStoreOptions = {},
  ) {
    this.dialect = driver.dialect.name;
    this.capabilities = driver.dialect.capabilities;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? defaultLogger();
    this.extraMigrations = options.extraMigrations ?? [];
    this.traceHeaders = options.instrumentation?.traceHeaders?.bind(options.instrumentation);
    this.outbox = this.createOutboxReader();
    this.deadLetters = this.createDeadLetterStore();
    this.parkedOutbox = new SqlParkedOutbox(driver, () => this.now());
  }

  retentionTask(policy?: StoreRetentionPolicy): RetentionTask {
    return storeRetentionTask(this.driver, policy);
  }

  protected t(name: string): string {
    return this.driver.dialect.table(name);
  }

  /** SagaStore: the dialect of Concord's own tables. */
  get sqlDialect(): SqlDialect {
    return this.driver.dialect;
  }

  /** SagaStore: reads outside a transaction. */
  read<T>(fn: (exec: SqlExecutor) => Promise<T>): Promise<T> {
    return this.driver.run(fn);
  }

  async migrate(): Promise<void> {
    await runMigrations(this.driver, 'store', storeMigrations);
    // Components of their own, so their versions never collide with the store's.
    await runMigrations(this.driver, 'isolation', isolationMigrations);
    await runMigrations(this.driver, 'saga', sagaMigrations);
    await runMigrations(this.driver, 'saga-extensions', sagaExtensionMigrations);
    await runMigrations(this.driver, 'timers', timerMigrations);
    await runMigrations(this.driver, 'reservations', reservationMigrations);
    await runMigrations(this.driver, 'saga-versions', sagaVersionMigrations);
    for (const extra of this.extraMigrations) await runMigrations(this.driver, extra.component, extra.migrations);
  }

  transaction<T>(fn: (tx: StoreTransaction<H>) => Promise<T> | T, options?: TransactionOptions): Promise<T> {
    return this.sqlTransaction(fn, options);
  }

  /** `transaction` with Concord's SQL executor exposed, for core modules that own tables. */
  async sqlTransaction<T>(
    fn: (tx: SqlStoreTransaction<H>) => Promise<T> | T,
    options?: TransactionOptions,
  ): Promise<T> {
    let committed: SqlStoreTransaction<H> | undefined;
    const mode = savepointMode(true);
    for (let run = 1; ; run++) {
      mode.optimistic = run <= MAX_OPTIMISTIC_RUNS;
      try {
        const result = await this.driver.transaction(async (exec, handle) => {
          // The driver may run this again itself (serialization failures): count from the start.
          mode.ordinal = 0;
          mode.failedNow = false;
          mode.absentGuesses = new Map();
          mode.checks = [];
          const tx = new SqlStoreTransaction(this, exec, handle, options?.causedBy, undefined, mode);
          let value: T;
          try {
            value = await fn(tx);
          } catch (error) {
            if (mode.failedNow) throw new RunAgain();
            throw error;
          }
          for (const check of mode.checks) await check();
          if (mode.failedNow) throw new RunAgain();
          await tx.flushOutbox();
          if (tx.outboxWrites > 0 && this.driver.notify) await this.driver.notify(exec, OUTBOX_TOPIC);
          committed = tx;
          return value;
        });
        if (committed) committed.committed();
        return result;
      } catch (error) {
        if (error instanceof RunAgain) continue;
        // A row guessed absent was there: its insert failed the transaction (at a later
        // statement or at COMMIT). Run again, this time looking first.
        const table = this.driver.dialect.uniqueViolationTable?.(error);
        const wrong = table === undefined ? undefined : mode.absentGuesses.get(table);
        if (!wrong || !mode.optimistic) throw error;
        for (const key of wrong) mode.abandoned.add(key);
      }
    }
  }

  /** Inserts envelopes into the outbox on `exec`; used by transactions and by replays. */
  async insertOutbox(exec: SqlExecutor, envelopes: readonly MessageEnvelope[]): Promise<void> {
    for (const rows of chunk(envelopes, 200)) {
      const params: unknown[] = [];
      for (const e of rows) params.push(...envelopeValues(e), partitionFor(e.partitionKey, OUTBOX_SHARDS));
      await writeLater(exec, this.outboxInsertSql(OUTBOX_INSERT_COLUMNS, rows.length), params);
    }
  }

  /** The INSERT of `rows` outbox rows, one `?` per column of each; a dialect may take positions its own way. */
  protected outboxInsertSql(columns: readonly string[], rows: number): string {
    return `INSERT INTO ${this.t('outbox')} (${columns.join(', ')}) VALUES ${valuesPlaceholders(columns.length, rows)}`;
  }

  /** @internal called by a transaction after its commit. */
  notifyCommitted(): void {
    for (const listener of this.committedListeners) {
      try {
        listener();
      } catch (error) {
        this.logger.error({ err: error }, 'outbox commit listener failed');
      }
    }
  }

  now(): number {
    return this.clock.now();
  }

  async recordFailedAttempt(consumer: string, messageId: string, error: string): Promise<number> {
    return this.driver.transaction(async (exec) => {
      const rows = await exec.query<{ attempts: number | string }>(
        `SELECT attempts FROM ${this.t('attempts')} WHERE consumer = ? AND message_id = ?${this.driver.dialect.forUpdate}`,
        [consumer, messageId],
      );
      const attempts = rows[0] ? Number(rows[0].attempts) + 1 : 1;
      if (rows[0]) {
        await exec.execute(
          `UPDATE ${this.t('attempts')} SET attempts = ?, last_error = ?, updated_at = ? WHERE consumer = ? AND message_id = ?`,
          [attempts, error, this.now(), consumer, messageId],
        );
      } else {
        await exec.execute(
          `INSERT INTO ${this.t('attempts')} (consumer, message_id, attempts, last_error, updated_at) VALUES (?, ?, ?, ?, ?)`,
          [consumer, messageId, attempts, error, this.now()],
        );
      }
      return attempts;
    });
  }

  /** Deletes inbox rows older than `olderThanMs` (see docs: inbox retention). */
  async purgeInbox(olderThanMs: number): Promise<number> {
    return this.driver.run((exec) =>
      exec.execute(`DELETE FROM ${this.t('inbox')} WHERE processed_at < ?`, [this.now() - olderThanMs]),
    );
  }

  async close(): Promise<void> {
    this.committedListeners.clear();
    await this.driver.close();
  }

  protected createOutboxReader(): OutboxReader {
    return {
      fetchUnsent: async (limit) => {
        const rows = await this.driver.run((exec) =>
          exec.query<EnvelopeRow & { position: number | string; shard: number | string }>(
            `SELECT position, shard, ${ENVELOPE_COLUMNS.join(', ')} FROM ${this.t('outbox')} ` +
              `WHERE sent_at IS NULL ORDER BY position LIMIT ?`,
            [limit],
          ),
        );
        // Outside `run`: parking takes its own transaction.
        return this.decodeOrPark(rows);
      },
      park: (position, reason) => this.parkedOutbox.park(position, reason),
      markSent: (positions) => this.markSent(positions),
      lag: () =>
        this.driver.run(async (exec) => {
          const rows = await exec.query<{ n: number | string; oldest: number | string | null }>(
            `SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM ${this.t('outbox')} WHERE sent_at IS NULL`,
          );
          const row = rows[0];
          const count = Number(row?.n ?? 0);
          const oldest = row?.oldest == null ? null : Number(row.oldest);
          return { count, oldestAgeMs: oldest == null ? null : Math.max(0, this.now() - oldest) } satisfies OutboxLag;
        }),
      purgeSent: (olderThanMs) =>
        this.driver.run((exec) =>
          exec.execute(`DELETE FROM ${this.t('outbox')} WHERE sent_at IS NOT NULL AND sent_at < ?`, [
            this.now() - olderThanMs,
          ]),
        ),
      onCommitted: (listener) => {
        this.committedListeners.add(listener);
        return () => this.committedListeners.delete(listener);
      },
    };
  }

  /**
   * Decodes outbox rows; a row that cannot be decoded would fail every relay round for good, so
   * it is parked (with the reason) and left out, and the rows behind it flow. Public for
   * relays that read the outbox on their own path (shard leases).
   */
  async decodeOrPark(rows: Array<EnvelopeRow & { position: number | string; shard: number | string }>): Promise<OutboxRecord[]> {
    const records: OutboxRecord[] = [];
    for (const r of rows) {
      try {
        records.push({ position: Number(r.position), shard: Number(r.shard), envelope: decodeEnvelopeRow(r, `outbox row ${r.position}`) });
      } catch (error) {
        const reason = (error as Error).message;
        if (await this.parkedOutbox.park(Number(r.position), reason)) {
          this.logger.error({ err: error, position: Number(r.position) }, 'undecodable outbox row parked; the relay goes on without it');
        }
      }
    }
    return records;
  }

  protected async markSent(positions: readonly number[]): Promise<void> {
    if (positions.length === 0) return;
    const now = this.now();
    await this.driver.run(async (exec) => {
      for (const part of chunk(positions, 500)) {
        await exec.execute(
          `UPDATE ${this.t('outbox')} SET sent_at = ? WHERE position IN (${part.map(() => '?').join(', ')})`,
          [now, ...part],
        );
      }
    });
  }

  protected createDeadLetterStore(): DeadLetterStore {
    const select = `SELECT id, consumer, error, stack, attempts, failed_at, replayed_at, ${ENVELOPE_COLUMNS.join(', ')} FROM ${this.t('dead_letters')}`;
    const toLetter = (r: Row & EnvelopeRow): DeadLetter => ({
      id: Number(r.id),
      consumer: String(r.consumer),
      message: envelopeFromRow(r),
      error: String(r.error),
      stack: r.stack == null ? null : String(r.stack),
      attempts: Number(r.attempts),
      failedAt: Number(r.failed_at),
      replayedAt: r.replayed_at == null ? null : Number(r.replayed_at),
    });
    return {
      list: (filter: DeadLetterFilter = {}) =>
        this.driver.run(async (exec) => {
          const where: string[] = [];
          const params: unknown[] = [];
          if (filter.consumer) {
            where.push('consumer = ?');
            params.push(filter.consumer);
          }
          if (!filter.includeReplayed) where.push('replayed_at IS NULL');
          const rows = await exec.query<Row & EnvelopeRow>(
            `${select}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`,
            [...params, filter.limit ?? 100],
          );
          return rows.map(toLetter);
        }),
      get: (id) =>
        this.driver.run(async (exec) => {
          const rows = await exec.query<Row & EnvelopeRow>(`${select} WHERE id = ?`, [id]);
          return rows[0] ? toLetter(rows[0]) : undefined;
        }),
      replay: async (id) => {
        let envelope: MessageEnvelope | undefined;
        await this.sqlTransaction(async (tx) => {
          const exec = tx.exec;
          const rows = await exec.query<Row & EnvelopeRow>(`${select} WHERE id = ?${this.driver.dialect.forUpdate}`, [id]);
          if (!rows[0]) throw new NotFoundError('dead letter', id);
          const letter = toLetter(rows[0]);
          if (letter.replayedAt != null) throw new IllegalStateError(`dead letter ${id} was already replayed`);
          envelope = {
            ...letter.message,
            id: newId(),
            createdAt: this.now(),
            headers: {
              ...letter.message.headers,
              [MessageHeader.replayOf]: letter.message.id,
              [MESSAGE_HEADER_REPLAY_FOR]: letter.consumer,
            },
          };
          await tx.outbox.sendEnvelope(envelope);
          await exec.execute(`UPDATE ${this.t('dead_letters')} SET replayed_at = ? WHERE id = ?`, [this.now(), id]);
          // A replayed message may fail again: its attempts start from zero.
          await exec.execute(`DELETE FROM ${this.t('attempts')} WHERE consumer = ? AND message_id = ?`, [
            letter.consumer,
            letter.message.id,
          ]);
        });
        return envelope!;
      },
    };
  }
}

/**
 * How a transaction runs keyed savepoints (`savepoint(fn, { key })`, Concord's own: the
 * participant's handler, a reply's action, a local step). Nearly all of them succeed, yet each
 * costs two statements: round trips on MySQL, a subtransaction on PostgreSQL; a saga pays
 * three of them. So they first run as plain calls ('optimistic'). When one fails, its writes
 * are still in the transaction: the transaction is rolled back whole and run again, and that
 * savepoint (same place, same key) now fails at once with the same error, without running
 * its function again, which is what a real savepoint would have left behind. A savepoint whose
 * key differs from the recorded one (the run took another path) is a real one. Drivers already
 * run a transaction again on serialization failures, so `fn` is written to run twice; a
 * failing handler still runs once.
 */
interface SavepointMode {
  /** False after MAX_OPTIMISTIC_RUNS runs: every savepoint is then a real one. */
  optimistic: boolean;
  /** Savepoints that failed in earlier runs, by their place in the run. */
  readonly failures: Map<number, { readonly key: string; readonly error: unknown }>;
  /** Guesses (`speculate`) that proved wrong in earlier runs, by key: not made again. */
  readonly abandoned: Set<string>;
  /** This run's `guessAbsent` guesses: the keys that a unique violation of the table proves wrong. */
  absentGuesses: Map<string, string[]>;
  /** This run's `checkBeforeCommit` checks. */
  checks: Array<() => Promise<void>>;
  /** Savepoints taken so far in this run. */
  ordinal: number;
  /** One failed in this run, its writes still in the transaction: this run must not commit. */
  failedNow: boolean;
}

const MAX_OPTIMISTIC_RUNS = 3;

function savepointMode(optimistic: boolean): SavepointMode {
  return { optimistic, failures: new Map(), abandoned: new Set(), absentGuesses: new Map(), checks: [], ordinal: 0, failedNow: false };
}

/** Thrown inside the driver's transaction to roll back an optimistic run (see SavepointMode). */
class RunAgain extends Error {
  constructor() {
    super('a savepoint failed in an optimistic run: the transaction runs again');
  }
}

export class SqlStoreTransaction<H> implements StoreTransaction<H> {
  /** Outbox rows written; read-only outside: a commit with writes wakes the relays. */
  private writes = 0;
  /**
   * On a server database the envelopes sent by this transaction wait here and go out as one
   * multi-row insert just before the commit (queued with it where the driver can): one
   * statement instead of one per message. SQLite, in process, inserts them at once. A
   * savepoint keeps its own list and hands it up only when it is released.
   */
  private pendingOutbox: MessageEnvelope[] = [];
  private afterCommitHooks: Array<() => void> | undefined;
  private savepointDepth = 0;
  readonly outbox: OutboxWriter;
  readonly inbox: InboxOps;

  constructor(
    private readonly store: SqlStore<H>,
    /** The executor bound to this transaction, for Concord's own SQL modules. */
    readonly exec: SqlExecutor,
    readonly handle: H,
    readonly causedBy: MessageEnvelope | undefined,
    /** Set for a scoped view: writes and hooks belong to the enclosing transaction. */
    private readonly enclosing?: SqlStoreTransaction<H>,
    private readonly mode: SavepointMode = savepointMode(false),
  ) {
    this.outbox = {
      send: async <D extends MessageDefinition>(def: D, payload: PayloadInputOf<D>, options?: SendOptions) => {
        const envelope = await buildEnvelope(def, payload, options, this.causedBy, this.store.now(), this.store.traceHeaders?.());
        await this.sendEnvelope(envelope);
        return envelope;
      },
      sendEnvelope: (envelope) => this.sendEnvelope(envelope),
    };
    const d = store.driver.dialect;
    this.inbox = {
      tryRecord: async (consumer, messageId) =>
        (await this.exec.execute(d.insertIgnore(d.table('inbox'), ['consumer', 'message_id', 'processed_at']), [
          consumer,
          messageId,
          this.store.now(),
        ])) === 1,
      addDeadLetter: (letter: NewDeadLetter) =>
        this.exec
          .execute(
            `INSERT INTO ${d.table('dead_letters')} (consumer, ${ENVELOPE_COLUMNS.join(', ')}, error, stack, attempts, failed_at) ` +
              `VALUES ${valuesPlaceholders(ENVELOPE_COLUMNS.length + 5, 1)}`,
            [
              letter.consumer,
              ...envelopeValues(letter.message),
              letter.error,
              letter.stack,
              letter.attempts,
              this.store.now(),
            ],
          )
          .then(() => undefined),
    };
  }

  get outboxWrites(): number {
    return this.writes;
  }

  private sendEnvelope(envelope: MessageEnvelope): Promise<void> {
    return this.insertOutbox([envelope]);
  }

  /** Writes envelopes into the outbox in one multi-row insert (bulk producers, replays). */
  async insertOutbox(envelopes: readonly MessageEnvelope[]): Promise<void> {
    const root = this.enclosing ?? this;
    root.pendingOutbox.push(...envelopes);
    root.writes += envelopes.length;
  }

  /** @internal Inserts what waits in `pendingOutbox` (before the commit). */
  async flushOutbox(): Promise<void> {
    if (this.pendingOutbox.length === 0) return;
    const envelopes = this.pendingOutbox;
    this.pendingOutbox = [];
    await this.store.insertOutbox(this.exec, envelopes);
  }

  /** The same transaction, with the messages sent through it caused by `causedBy`. */
  scoped(causedBy: MessageEnvelope): this {
    return new SqlStoreTransaction(this.store, this.exec, this.handle, causedBy, this.enclosing ?? this, this.mode) as this;
  }

  get sql(): SqlExecutor {
    return this.exec;
  }

  /**
   * @internal Whether work named `key` may run on a guess that is checked before the commit
   * (the participant's barrier claimed without waiting for it). Not after the guess proved
   * wrong in an earlier run of this transaction, nor once its runs stopped being optimistic.
   */
  maySpeculate(key: string): boolean {
    return this.mode.optimistic && !this.mode.abandoned.has(key);
  }

  /**
   * @internal Guesses that a row of `table` (as the dialect names it) does not exist, so it
   * can be inserted with a queued plain INSERT instead of being looked for first. Should the
   * row exist, the insert fails the transaction, which then runs again from the start with
   * `maySpeculate(key)` false. Returns false (no guess made) where the executor cannot queue
   * writes, the dialect cannot name a violated table, or `maySpeculate(key)` is false.
   */
  guessAbsent(key: string, table: string): boolean {
    if (!this.exec.enqueue || !this.store.driver.dialect.uniqueViolationTable || !this.maySpeculate(key)) return false;
    const keys = this.mode.absentGuesses.get(table);
    if (keys) keys.push(key);
    else this.mode.absentGuesses.set(table, [key]);
    return true;
  }

  /**
   * @internal Runs `check` after the transaction's work and before its commit, so a guess can
   * be checked when its answer has most likely arrived with a later statement's (answers come
   * in order) instead of costing a round trip of its own. `check` may `abandonSpeculation`.
   */
  checkBeforeCommit(check: () => Promise<void>): void {
    this.mode.checks.push(check);
  }

  /**
   * @internal The guess named `key` was wrong and this run's writes must not commit: the
   * transaction is rolled back and runs again from the start, where `maySpeculate(key)` is false.
   */
  abandonSpeculation(key: string): void {
    this.mode.abandoned.add(key);
    this.mode.failedNow = true;
  }

  afterCommit(fn: () => void): void {
    if (this.enclosing) this.enclosing.afterCommit(fn);
    else (this.afterCommitHooks ??= []).push(fn);
  }

  async savepoint<T>(fn: (tx: this) => Promise<T> | T, options?: SavepointOptions): Promise<T> {
    const ordinal = this.mode.ordinal++;
    const key = options?.key;
    let real = key === undefined || !this.mode.optimistic;
    if (!real) {
      const failed = this.mode.failures.get(ordinal);
      if (failed && failed.key === key) throw failed.error;
      // Another path than the run that recorded a failure here: no guessing, a real savepoint.
      if (failed) real = true;
    }
    const name = `concord_sp${++this.savepointDepth}`;
    if (real) await writeLater(this.exec, `SAVEPOINT ${name}`);
    const child = new SqlStoreTransaction(this.store, this.exec, this.handle, options?.causedBy ?? this.causedBy, undefined, this.mode);
    child.savepointDepth = this.savepointDepth;
    try {
      const value = await fn(child as this);
      if (real) await writeLater(this.exec, `RELEASE SAVEPOINT ${name}`);
      // Through the enclosing-aware paths: `this` may itself be a scoped view.
      (this.enclosing ?? this).writes += child.writes;
      (this.enclosing ?? this).pendingOutbox.push(...child.pendingOutbox);
      for (const hook of child.afterCommitHooks ?? []) this.afterCommit(hook);
      return value;
    } catch (error) {
      if (!real) {
        this.mode.failures.set(ordinal, { key: key!, error });
        this.mode.failedNow = true;
        throw error;
      }
      await this.exec.execute(`ROLLBACK TO SAVEPOINT ${name}`);
      await this.exec.execute(`RELEASE SAVEPOINT ${name}`);
      throw error;
    } finally {
      this.savepointDepth--;
    }
  }

  /** @internal Runs after the commit; a failing hook must not turn a commit into an error. */
  committed(): void {
    if (this.outboxWrites > 0) this.store.notifyCommitted();
    for (const hook of this.afterCommitHooks ?? []) {
      try {
        hook();
      } catch (error) {
        this.store.logger.error({ err: error }, 'afterCommit hook failed (the transaction did commit)');
      }
    }
  }
}
