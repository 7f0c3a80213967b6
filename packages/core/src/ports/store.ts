import type { MessageEnvelope } from '../message/envelope.js';
import type { OutboxWriter } from '../outbox/outbox-writer.js';
import type { SqlExecutor } from '../sql/sql-driver.js';
import type { RetentionTask } from '../retention/retention-sweeper.js';
import type { StoreRetentionPolicy } from '../retention/store-retention.js';

export interface StoreCapabilities {
  /** Several relays can claim outbox rows at once (`FOR UPDATE SKIP LOCKED`). */
  readonly supportsSkipLocked: boolean;
  /** Commits can wake relays in other processes (LISTEN/NOTIFY). */
  readonly supportsNotify: boolean;
  /** The transaction log can be tailed instead of polling the outbox. */
  readonly supportsLogTailing: boolean;
  /**
   * A transaction's statements go out without waiting for each answer (PostgreSQL's pipeline
   * mode), so a long transaction costs its statements, not a round trip each. Consumers merge
   * the batches of several partitions into one transaction where this holds (decision 043).
   */
  readonly pipelinesStatements: boolean;
}

/** What user code receives inside `store.transaction(...)`. */
export interface Transaction<H> {
  /** The driver's own handle: a better-sqlite3 Database, a pg client, a mysql2 connection. */
  readonly handle: H;
  /**
   * Concord's portable executor on this same transaction: `?` placeholders on every database,
   * for code meant to run on SQLite, PostgreSQL and MySQL alike.
   */
  readonly sql: SqlExecutor;
  /** Writes messages into the outbox, in this same local transaction. */
  readonly outbox: OutboxWriter;
  /** The message being handled when this transaction runs inside a consumer. */
  readonly causedBy: MessageEnvelope | undefined;
  /** Runs after a successful commit (never on rollback). */
  afterCommit(fn: () => void): void;
  /**
   * Runs `fn` in a savepoint: if it throws, only its own writes (and its afterCommit hooks)
   * are undone and the error is rethrown; the enclosing transaction goes on.
   */
  savepoint<T>(fn: (tx: this) => Promise<T> | T, options?: SavepointOptions): Promise<T>;
}

export interface SavepointOptions {
  /** Messages sent inside are caused by this one. */
  readonly causedBy?: MessageEnvelope;
  /**
   * Names what runs inside, the same on every run of the transaction (e.g. saga, step and
   * version). With a key, a SQL store may skip the SAVEPOINT statements: should `fn` throw, it
   * rolls the whole transaction back and runs it again, and the savepoint with this key then
   * throws the same error without running `fn` (docs/decisions/041). Without one, the
   * savepoint is always real.
   */
  readonly key?: string;
}

export interface OutboxRecord {
  /** Monotonic row id within this store. */
  readonly position: number;
  readonly shard: number;
  readonly envelope: MessageEnvelope;
}

export interface OutboxLag {
  /** Messages written but not yet accepted by the broker. */
  readonly count: number;
  /** Age in milliseconds of the oldest such message, or null when none. */
  readonly oldestAgeMs: number | null;
}

export interface OutboxReader {
  fetchUnsent(limit: number): Promise<OutboxRecord[]>;
  markSent(positions: readonly number[]): Promise<void>;
  lag(): Promise<OutboxLag>;
  /** Deletes sent rows older than the given age; returns how many went. */
  purgeSent(olderThanMs: number): Promise<number>;
  /** Called after each commit that wrote outbox rows in this process. */
  onCommitted(listener: () => void): () => void;
  /**
   * Moves an unsent row out of the outbox into the parked list with the reason (the broker
   * refuses it, or it cannot be decoded), so the rows behind it flow. False if it was gone.
   */
  park(position: number, reason: string): Promise<boolean>;
}

/** An outbox row a relay parked, exactly as it was stored (raw text: it may not decode). */
export interface ParkedOutboxRow {
  readonly id: number;
  readonly outboxPosition: number;
  readonly messageId: string;
  readonly channel: string;
  readonly messageType: string;
  readonly partitionKey: string;
  readonly headers: string;
  readonly payload: string;
  readonly schemaVersion: number;
  readonly createdAt: number;
  /** Why it was parked. */
  readonly error: string;
  readonly parkedAt: number;
  readonly resolvedAt: number | null;
  readonly resolution: 'replayed' | 'discarded' | null;
}

export interface ParkedOutboxFilter {
  readonly includeResolved?: boolean;
  readonly limit?: number;
}

/** The relay-side dead letters: listed with the reason, replayed into the outbox, or discarded. */
export interface ParkedOutboxStore {
  list(filter?: ParkedOutboxFilter): Promise<ParkedOutboxRow[]>;
  get(id: number): Promise<ParkedOutboxRow | undefined>;
  /** Back into the outbox, same message id, at the end; refuses one already resolved. */
  replay(id: number): Promise<void>;
  /** Given up for good (kept, resolved, until the retention removes it); refuses one already resolved. */
  discard(id: number): Promise<void>;
}

export interface DeadLetter {
  readonly id: number;
  readonly consumer: string;
  readonly message: MessageEnvelope;
  readonly error: string;
  readonly stack: string | null;
  readonly attempts: number;
  readonly failedAt: number;
  readonly replayedAt: number | null;
}

export interface DeadLetterFilter {
  readonly consumer?: string;
  readonly includeReplayed?: boolean;
  readonly limit?: number;
}

export interface DeadLetterStore {
  list(filter?: DeadLetterFilter): Promise<DeadLetter[]>;
  get(id: number): Promise<DeadLetter | undefined>;
  /**
   * Sends the message again, through the outbox, to the one consumer that failed it, with a new
   * id (so no other consumer applies it twice). Refuses a letter already replayed.
   */
  replay(id: number): Promise<MessageEnvelope>;
}

export interface NewDeadLetter {
  readonly consumer: string;
  readonly message: MessageEnvelope;
  readonly error: string;
  readonly stack: string | null;
  readonly attempts: number;
}

export interface InboxOps {
  /** Records that `consumer` handled `messageId`; false if it already had. */
  tryRecord(consumer: string, messageId: string): Promise<boolean>;
  /** Parks a message that cannot be handled; the same transaction records it in the inbox. */
  addDeadLetter(letter: NewDeadLetter): Promise<void>;
}

export interface TransactionOptions {
  readonly causedBy?: MessageEnvelope;
}

/** Concord's own view of a transaction: the user's, plus the framework's tables. */
export interface StoreTransaction<H> extends Transaction<H> {
  readonly inbox: InboxOps;
  /** The same transaction (no savepoint), with the messages sent through it caused by `causedBy`. */
  scoped(causedBy: MessageEnvelope): this;
}

/**
 * The store port: a service's own database. A business change and the messages it causes
 * commit in one local transaction.
 */
export interface Store<H = unknown> {
  readonly dialect: string;
  readonly capabilities: StoreCapabilities;
  /** Applies pending schema migrations; safe to call from many processes at once. */
  migrate(): Promise<void>;
  transaction<T>(fn: (tx: StoreTransaction<H>) => Promise<T> | T, options?: TransactionOptions): Promise<T>;
  readonly outbox: OutboxReader;
  readonly deadLetters: DeadLetterStore;
  /** Outbox rows the relay parked (see OutboxReader.park). */
  readonly parkedOutbox: ParkedOutboxStore;
  /** Retention of the store's own tables, for a RetentionSweeper (defaults: `defaultStoreRetention`). */
  retentionTask(policy?: StoreRetentionPolicy): RetentionTask;
  /** Counts a failed attempt for (consumer, message); returns the attempts so far. */
  recordFailedAttempt(consumer: string, messageId: string, error: string): Promise<number>;
  close(): Promise<void>;
}
