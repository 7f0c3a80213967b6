import { ClosedError, ConcordError, ConcordErrorCode, InvalidArgumentError, RebuildInProgressError } from '../errors.js';
import { newId } from '../ids.js';
import { assertName } from '../message/message-definition.js';
import type { MessageEnvelope } from '../message/envelope.js';
import { partitionFor } from '../message/partition.js';
import type { Broker, SubscribeOptions, Subscription } from '../ports/broker.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { defaultLogger } from '../logging.js';
import { PartitionWakers } from '../util/partition-wakers.js';
import type { WakeSignal } from '../util/wake-signal.js';
import { brokerMigrations } from './broker-schema.js';
import { ENVELOPE_COLUMNS, envelopeValues, valuesPlaceholders } from './envelope-row.js';
import { runMigrations } from './migrations.js';
import type { SqlDriver } from './sql-driver.js';
import { GroupEpochs } from './group-epochs.js';
import { GroupSubscription, startTracked } from '../consumer-group/group-subscription.js';
import type { LeaseTable, PartitionSource } from '../consumer-group/ports.js';
import { SqlLeaseTable } from './sql-lease-table.js';
import { SqlPartitionSource } from './sql-partition-source.js';
import { PartitionReads } from './partition-reads.js';
import type { RetentionTask } from '../retention/retention-sweeper.js';

export const BROKER_TOPIC = 'concord_broker';

export interface SqlBrokerOptions {
  /** Partitions of a channel created by this broker (fixed once the channel exists). Default 16. */
  readonly partitions?: number;
  /** How long a partition lease lasts without renewal. Default 10 s. */
  readonly leaseMs?: number;
  /** Fallback poll for commits made by other processes: default 100 ms, or 1 s when the driver
   * delivers cross-process notifications (PostgreSQL LISTEN/NOTIFY). */
  readonly pollIntervalMs?: number;
  readonly maxBatchSize?: number;
  /**
   * How long a consumer's offsets may wait to be committed, all of a member's partitions in
   * one transaction. A crash in between delivers those batches again (consumers deduplicate).
   * Default 20 ms on SQLite (a commit is local, but each is a transaction of its own: the
   * embedded demo ran 12 % faster batching them than committing each batch at once); 100 ms
   * on a server. 0 commits each batch at once.
   */
  readonly offsetCommitIntervalMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface SqlBrokerSettings {
  readonly partitions: number;
  readonly leaseMs: number;
  readonly pollIntervalMs: number;
  readonly maxBatchSize: number;
  readonly offsetCommitIntervalMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * A broker kept in SQL tables: channels split into partitions with offsets, consumer groups
 * with committed offsets, and partition leases so each partition has one consumer per group.
 */
export class SqlBroker implements Broker {
  readonly name: string;
  readonly capabilities = { partitionedConsumers: true, durable: true } as const;
  readonly settings: SqlBrokerSettings;
  private readonly channelPartitions = new Map<string, number>();
  private readonly wakers = new PartitionWakers();
  private readonly subscriptions = new Set<GroupSubscription<true>>();
  /** Members' heads polls, run when another process publishes (see `subscribe`). */
  private readonly headPollers = new Set<() => void>();
  readonly epochs: GroupEpochs;
  /** Every member's partition reads, several in one statement on a server. */
  readonly partitionReads: PartitionReads;
  private unlisten: (() => Promise<void>) | undefined;
  private closed = false;

  constructor(
    readonly driver: SqlDriver,
    options: SqlBrokerOptions = {},
  ) {
    this.name = `sql-${driver.dialect.name}`;
    const partitions = options.partitions ?? 16;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024) {
      throw new InvalidArgumentError(`partitions must be an integer from 1 to 1024, got ${partitions}`);
    }
    this.settings = {
      partitions,
      leaseMs: options.leaseMs ?? 10_000,
      // With cross-process notifications the poll is only a safety net for a lost NOTIFY; on
      // SQLite it stays at 100 ms (an in-process read): at 1 s the embedded demo ran 10 % slower,
      // a sign that some wake-ups still arrive only through the poll (not found yet).
      pollIntervalMs: options.pollIntervalMs ?? (driver.listen && driver.dialect.name !== 'sqlite' ? 1_000 : 100),
      maxBatchSize: options.maxBatchSize ?? 256,
      offsetCommitIntervalMs: options.offsetCommitIntervalMs ?? (driver.dialect.name === 'sqlite' ? 20 : 100),
      clock: options.clock ?? systemClock,
      logger: options.logger ?? defaultLogger(),
    };
    this.epochs = new GroupEpochs(driver);
    this.partitionReads = new PartitionReads(driver, this.t('broker_messages'));
  }

  /**
   * True when the driver delivers cross-process notifications: each subscription then reads
   * every partition's head once per poll interval, instead of each partition worker reading
   * its partition, as the safety net for a missed notification.
   */
  get pollsHeads(): boolean {
    return this.driver.listen !== undefined;
  }

  t(name: string): string {
    return this.driver.dialect.table(name);
  }

  async migrate(): Promise<void> {
    await runMigrations(this.driver, 'broker', brokerMigrations);
  }

  /** The partition count of `channel`, creating the channel with the configured count if new. */
  async partitionsOf(channel: string): Promise<number> {
    const known = this.channelPartitions.get(channel);
    if (known !== undefined) return known;
    assertName('channel', channel);
    const d = this.driver.dialect;
    const q = d.quote('partition');
    const count = await this.driver.transaction(async (exec) => {
      await exec.execute(d.insertIgnore(this.t('broker_channels'), ['channel', 'partitions']), [
        channel,
        this.settings.partitions,
      ]);
      const rows = await exec.query<{ partitions: number | string }>(
        `SELECT partitions FROM ${this.t('broker_channels')} WHERE channel = ?`,
        [channel],
      );
      const n = Number(rows[0]!.partitions);
      await exec.execute(
        d.insertIgnore(this.t('broker_partitions'), ['channel', q, 'next_offset'], n),
        Array.from({ length: n }, (_, p) => [channel, p, 0]).flat(),
      );
      return n;
    });
    this.channelPartitions.set(channel, count);
    return count;
  }

  async publish(messages: readonly MessageEnvelope[]): Promise<void> {
    if (this.closed) throw new ClosedError('broker');
    if (messages.length === 0) return;
    const groups = new Map<string, { channel: string; partition: number; messages: MessageEnvelope[] }>();
    for (const m of messages) {
      const partition = partitionFor(m.partitionKey, await this.partitionsOf(m.channel));
      const key = `${m.channel}\u0000${String(partition).padStart(5, '0')}`;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { channel: m.channel, partition, messages: [] }));
      group.messages.push(m);
    }
    // Locks are taken in one global order so two publishers never deadlock.
    const ordered = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g);
    const d = this.driver.dialect;
    const q = d.quote('partition');
    const columns = ['channel', q, 'msg_offset', ...ENVELOPE_COLUMNS.filter((c) => c !== 'channel')];
    await this.driver.transaction(async (exec) => {
      for (const g of ordered) {
        const rows = await exec.query<{ next_offset: number | string }>(
          `SELECT next_offset FROM ${this.t('broker_partitions')} WHERE channel = ? AND ${q} = ?${d.forUpdate}`,
          [g.channel, g.partition],
        );
        let offset = Number(rows[0]!.next_offset);
        for (let i = 0; i < g.messages.length; i += 200) {
          const part = g.messages.slice(i, i + 200);
          const params: unknown[] = [];
          for (const m of part) {
            const [id, channel, ...rest] = envelopeValues(m);
            params.push(channel, g.partition, offset++, id, ...rest);
          }
          await exec.execute(
            `INSERT INTO ${this.t('broker_messages')} (${columns.join(', ')}) VALUES ${valuesPlaceholders(columns.length, part.length)}`,
            params,
          );
        }
        await exec.execute(
          `UPDATE ${this.t('broker_partitions')} SET next_offset = ? WHERE channel = ? AND ${q} = ?`,
          [offset, g.channel, g.partition],
        );
      }
      if (this.driver.notify) await this.driver.notify(exec, BROKER_TOPIC);
    });
    for (const g of ordered) this.wake(g.channel, g.partition);
  }

  /**
   * Rebuilds what a consumer group projects, coordinated across every instance of the group:
   * takes the group's rebuild lock (a second rebuild, here or elsewhere, gets
   * RebuildInProgressError) and moves the group to a new epoch; waits until every live member
   * has stopped its workers (a batch in flight finishes; its offset commit is refused, being of
   * the old epoch); runs `reset` (drop the projection and its inbox rows); rewinds the group's
   * offsets on `channels`; then releases the lock, and every member starts again from the
   * rewound position. If anything fails the group stays paused (and the error is thrown):
   * run the rebuild again; a rebuild whose instance died can be taken over after `holdMs`.
   * See docs/decisions/010-coordinated-view-rebuild.md.
   */
  async rebuild(
    group: string,
    channels: readonly string[],
    reset: () => Promise<void>,
    options: { readonly holdMs?: number; readonly quiesceTimeoutMs?: number } = {},
  ): Promise<void> {
    const { clock, leaseMs } = this.settings;
    const token = newId();
    const epoch = await this.epochs.begin(group, token, clock.now(), options.holdMs ?? 5 * 60_000);
    if (epoch === undefined) throw new RebuildInProgressError(group);
    this.wakeSubscriptions(group);
    const deadline = clock.now() + (options.quiesceTimeoutMs ?? Math.max(30_000, 3 * leaseMs));
    for (;;) {
      const busy = await this.driver.run((exec) =>
        exec.query<{ n: number | string }>(
          `SELECT COUNT(*) AS n FROM ${this.t('broker_members')} WHERE group_name = ? AND heartbeat_at >= ? ` +
            `AND (paused_epoch IS NULL OR paused_epoch <> ?)`,
          [group, clock.now() - leaseMs, epoch],
        ),
      );
      if (Number(busy[0]?.n ?? 0) === 0) break;
      if (clock.now() > deadline) {
        throw new ConcordError(ConcordErrorCode.TIMEOUT, `rebuild of ${group}: members did not stop within the timeout; the group stays paused, run the rebuild again`);
      }
      await clock.sleep(Math.min(50, leaseMs / 10));
    }
    await reset();
    await this.driver.run(async (exec) => {
      for (const channel of channels) {
        await exec.execute(`UPDATE ${this.t('broker_offsets')} SET committed = -1 WHERE group_name = ? AND channel = ?`, [group, channel]);
      }
    });
    await this.epochs.end(group, token);
    this.wakeSubscriptions(group);
  }

  private wakeSubscriptions(group: string): void {
    for (const s of this.subscriptions) if (s.group === group) s.rebalanceSoon();
  }

  /**
   * Moves a consumer group back to the oldest retained message of each channel. Only safe
   * with every consumer of the group stopped; `rebuild` does that for you across instances.
   */
  async rewind(group: string, channels: readonly string[]): Promise<void> {
    await this.driver.run(async (exec) => {
      for (const channel of channels) {
        await exec.execute(`UPDATE ${this.t('broker_offsets')} SET committed = -1 WHERE group_name = ? AND channel = ?`, [group, channel]);
      }
    });
  }

  /**
   * The broker's retention: deletes messages older than `olderThanMs` that EVERY group of their
   * channel has committed past. A partition no group reads keeps its messages (a group that
   * subscribes later starts from the oldest retained one), and a group held back (slow, stopped,
   * or rewound for a rebuild) holds everything after its offset.
   */
  async purge(olderThanMs: number): Promise<number> {
    const cutoff = this.settings.clock.now() - olderThanMs;
    const q = this.driver.dialect.quote('partition');
    const m = this.t('broker_messages');
    const o = this.t('broker_offsets');
    return this.driver.run((exec) =>
      exec.execute(
        `DELETE FROM ${m} WHERE created_at < ? AND msg_offset <= ` +
          `(SELECT MIN(o.committed) FROM ${o} o WHERE o.channel = ${m}.channel AND o.${q} = ${m}.${q})`,
        [cutoff],
      ),
    );
  }

  /** `purge` as a RetentionSweeper task. `null` keeps every message (the default: see docs). */
  retentionTask(messagesMs: number | null): RetentionTask {
    return { name: `broker:${this.name}`, sweep: async (): Promise<Record<string, number>> => (messagesMs === null ? {} : { messages: await this.purge(messagesMs) }) };
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.closed) throw new ClosedError('broker');
    assertName('consumer group', options.group);
    if (options.channels.length === 0) throw new InvalidArgumentError('subscribe: channels must not be empty');
    if (!this.unlisten && this.driver.listen) {
      // A publish of another process: one read of the heads per member, then only the readers
      // behind them read (this process's own publishes wake exactly their partitions).
      this.unlisten = await this.driver.listen(BROKER_TOPIC, () => this.headPollers.forEach((poll) => poll()), { includeLocalCommits: false });
    }
    return startTracked(this.subscriptions, new GroupSubscription<true>(this, options));
  }

  /** @internal A member's ports: the broker's lease table and partitions (GroupSubscription). */
  ports(group: string, memberId: string, options: SubscribeOptions): { leases: LeaseTable<true>; source: PartitionSource } {
    return { leases: new SqlLeaseTable(this, group), source: new SqlPartitionSource(this, group, options.channels, memberId) };
  }

  /** @internal Registers a member's heads poll for other processes' publishes; returns the unregister. */
  addHeadPoller(poll: () => void): () => void {
    this.headPollers.add(poll);
    return () => this.headPollers.delete(poll);
  }

  /** @internal Wakes `signal` when this process publishes to the partition. */
  addWaker(channel: string, partition: number, signal: WakeSignal): () => void {
    return this.wakers.add(channel, partition, signal);
  }

  /** Wakes this process's consumers of the partition at once (other processes hear NOTIFY or poll). */
  protected wake(channel: string, partition: number): void {
    this.wakers.wake(channel, partition);
  }

  async ping(): Promise<void> {
    await this.driver.run((exec) => exec.query('SELECT 1'));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.unlisten?.();
  }
}
