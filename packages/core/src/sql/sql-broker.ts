import { ClosedError, InvalidArgumentError } from '../errors.js';
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
import { SqlOffsetCommitter } from './sql-offset-committer.js';
import { SqlPartitionConsumer } from './sql-partition-consumer.js';

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
   * Default 0 (each batch at once) on SQLite, where a commit is local; 100 ms on a server.
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
  private readonly subscriptions = new Set<SqlBrokerSubscription>();
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
      // With cross-process notifications the poll is only a safety net for a lost NOTIFY.
      pollIntervalMs: options.pollIntervalMs ?? (driver.listen ? 1_000 : 100),
      maxBatchSize: options.maxBatchSize ?? 256,
      offsetCommitIntervalMs: options.offsetCommitIntervalMs ?? (driver.dialect.name === 'sqlite' ? 0 : 100),
      clock: options.clock ?? systemClock,
      logger: options.logger ?? defaultLogger(),
    };
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
   * Moves a consumer group back to the oldest retained message of each channel, so a
   * projection can be rebuilt by replay. Stop the group's consumers first.
   */
  async rewind(group: string, channels: readonly string[]): Promise<void> {
    await this.driver.run(async (exec) => {
      for (const channel of channels) {
        await exec.execute(`UPDATE ${this.t('broker_offsets')} SET committed = -1 WHERE group_name = ? AND channel = ?`, [group, channel]);
      }
    });
  }

  /** Deletes messages older than `olderThanMs`: the broker's retention. */
  async purge(olderThanMs: number): Promise<number> {
    const cutoff = this.settings.clock.now() - olderThanMs;
    return this.driver.run((exec) => exec.execute(`DELETE FROM ${this.t('broker_messages')} WHERE created_at < ?`, [cutoff]));
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.closed) throw new ClosedError('broker');
    assertName('consumer group', options.group);
    if (options.channels.length === 0) throw new InvalidArgumentError('subscribe: channels must not be empty');
    if (!this.unlisten && this.driver.listen) {
      // Other processes' publishes wake every local partition consumer; this process's own
      // publishes wake exactly the partitions they wrote (see publish), not all of them.
      this.unlisten = await this.driver.listen(BROKER_TOPIC, () => this.wakers.wakeAll(), { includeLocalCommits: false });
    }
    const subscription = new SqlBrokerSubscription(this, options);
    this.subscriptions.add(subscription);
    await subscription.start();
    return {
      assignedPartitions: () => subscription.assignedPartitions(),
      close: async () => {
        this.subscriptions.delete(subscription);
        await subscription.close();
      },
    };
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

/**
 * One member of a consumer group: keeps a heartbeat, takes its fair share of partition leases,
 * gives back what is over its share, and runs one worker per partition it holds.
 */
class SqlBrokerSubscription {
  readonly memberId = newId();
  private readonly workers = new Map<string, SqlPartitionConsumer>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private headsTimer: ReturnType<typeof setInterval> | undefined;
  private pollingHeads = false;
  private readonly offsets: SqlOffsetCommitter;
  private rebalancing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly broker: SqlBroker,
    private readonly options: SubscribeOptions,
  ) {
    this.offsets = new SqlOffsetCommitter(broker, options.group, this.memberId, broker.settings.offsetCommitIntervalMs);
  }

  /**
   * Partitions whose lease this member holds for sure right now: none once the lease may have
   * expired without renewal (a stalled process), even before the next rebalance notices.
   */
  assignedPartitions(): string[] {
    return this.leaseValid() ? [...this.workers.keys()].sort() : [];
  }

  /** @internal Workers start no new batch while this is false. */
  leaseValid(): boolean {
    return this.broker.settings.clock.now() < this.leaseValidUntil;
  }

  private leaseValidUntil = 0;

  async start(): Promise<void> {
    const d = this.broker.driver.dialect;
    const q = d.quote('partition');
    const all: Array<[string, number]> = [];
    for (const channel of this.options.channels) {
      const n = await this.broker.partitionsOf(channel);
      for (let p = 0; p < n; p++) all.push([channel, p]);
    }
    this.all = all;
    await this.broker.driver.run(async (exec) => {
      const leaseSql = d.insertIgnore(this.broker.t('broker_leases'), ['group_name', 'channel', q, 'owner', 'expires_at'], all.length);
      await exec.execute(leaseSql, all.flatMap(([c, p]) => [this.options.group, c, p, '', 0]));
      const offsetSql = d.insertIgnore(this.broker.t('broker_offsets'), ['group_name', 'channel', q, 'committed'], all.length);
      await exec.execute(offsetSql, all.flatMap(([c, p]) => [this.options.group, c, p, -1]));
    });
    await this.rebalance();
    const every = Math.max(50, Math.floor(this.broker.settings.leaseMs / 3));
    this.timer = setInterval(() => {
      this.rebalancing = this.rebalancing.then(() => this.rebalance()).catch((error: unknown) => {
        this.broker.settings.logger.warn({ err: error, group: this.options.group }, 'partition rebalance failed');
      });
    }, every);
    if (this.broker.pollsHeads) this.headsTimer = setInterval(() => void this.pollHeads(), this.broker.settings.pollIntervalMs);
  }

  /** One read of every subscribed partition's next offset; wakes the workers that are behind. */
  private async pollHeads(): Promise<void> {
    if (this.closed || this.pollingHeads || this.workers.size === 0) return;
    this.pollingHeads = true;
    const q = this.broker.driver.dialect.quote('partition');
    const channels = this.options.channels;
    try {
      const rows = await this.broker.driver.run((exec) =>
        exec.query<{ channel: string; partition: number | string; next_offset: number | string }>(
          `SELECT channel, ${q} AS ${q}, next_offset FROM ${this.broker.t('broker_partitions')} ` +
            `WHERE channel IN (${channels.map(() => '?').join(', ')})`,
          [...channels],
        ),
      );
      for (const r of rows) this.workers.get(`${r.channel}/${Number(r.partition)}`)?.noteHead(Number(r.next_offset));
    } catch (error) {
      this.broker.settings.logger.debug({ err: error, group: this.options.group }, 'reading partition heads failed; trying again');
    } finally {
      this.pollingHeads = false;
    }
  }

  private all: Array<[string, number]> = [];

  private async rebalance(): Promise<void> {
    if (this.closed) return;
    const { driver } = this.broker;
    const d = driver.dialect;
    const q = d.quote('partition');
    const { leaseMs, clock } = this.broker.settings;
    const group = this.options.group;
    const now = clock.now();
    const t = (n: string) => this.broker.t(n);

    const live = await driver.transaction(async (exec) => {
      const changed = await exec.execute(`UPDATE ${t('broker_members')} SET heartbeat_at = ? WHERE group_name = ? AND member_id = ?`, [
        now,
        group,
        this.memberId,
      ]);
      if (changed === 0) {
        await exec.execute(`INSERT INTO ${t('broker_members')} (group_name, member_id, heartbeat_at) VALUES (?, ?, ?)`, [
          group,
          this.memberId,
          now,
        ]);
      }
      await exec.execute(`DELETE FROM ${t('broker_members')} WHERE group_name = ? AND heartbeat_at < ?`, [group, now - leaseMs]);
      const rows = await exec.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${t('broker_members')} WHERE group_name = ?`, [
        group,
      ]);
      return Math.max(1, Number(rows[0]?.n ?? 1));
    });

    // Renew what we hold and learn what we lost (an expired lease someone else took).
    await driver.run((exec) =>
      exec.execute(`UPDATE ${t('broker_leases')} SET expires_at = ? WHERE group_name = ? AND owner = ?`, [now + leaseMs, group, this.memberId]),
    );
    const held = await driver.run((exec) =>
      exec.query<{ channel: string; partition: number | string }>(
        `SELECT channel, ${q} AS ${q} FROM ${t('broker_leases')} WHERE group_name = ? AND owner = ?`,
        [group, this.memberId],
      ),
    );
    const heldKeys = new Set(held.map((r) => `${r.channel}/${Number(r.partition)}`));
    // The expiry just stored (from `now`, taken before the renewal): never later than the real one.
    this.leaseValidUntil = now + leaseMs;
    for (const [key, worker] of this.workers) {
      if (!heldKeys.has(key)) {
        this.workers.delete(key);
        await worker.stop();
      }
    }

    const fairShare = Math.ceil(this.all.length / live);
    // Over our share: stop workers first (their batch finishes and commits), then free the leases.
    const extra = [...this.workers.keys()].slice(fairShare);
    for (const key of extra) {
      const worker = this.workers.get(key)!;
      this.workers.delete(key);
      await worker.stop();
      await driver.run((exec) =>
        exec.execute(
          `UPDATE ${t('broker_leases')} SET owner = '', expires_at = 0 WHERE group_name = ? AND channel = ? AND ${q} = ? AND owner = ?`,
          [group, worker.channel, worker.partition, this.memberId],
        ),
      );
    }

    if (this.workers.size >= fairShare || this.closed) return;
    const start = Math.abs(this.memberId.charCodeAt(this.memberId.length - 1)) % this.all.length;
    const candidates = [...this.all.slice(start), ...this.all.slice(0, start)];
    for (const [channel, partition] of candidates) {
      if (this.workers.size >= fairShare || this.closed) break;
      const key = `${channel}/${partition}`;
      if (this.workers.has(key)) continue;
      const claimed = await driver.run((exec) =>
        exec.execute(
          `UPDATE ${t('broker_leases')} SET owner = ?, expires_at = ? WHERE group_name = ? AND channel = ? AND ${q} = ? AND (owner = '' OR expires_at < ?)`,
          [this.memberId, now + leaseMs, group, channel, partition, now],
        ),
      );
      if (claimed !== 1) continue;
      const worker = new SqlPartitionConsumer(this.broker, this.options, this.memberId, channel, partition, () => this.leaseValid(), this.offsets);
      this.workers.set(key, worker);
      worker.start();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    clearInterval(this.headsTimer);
    await this.rebalancing;
    const workers = [...this.workers.values()];
    this.workers.clear();
    await Promise.all(workers.map((w) => w.stop()));
    await this.offsets.close().catch((error: unknown) => this.broker.settings.logger.warn({ err: error }, 'could not commit offsets at close'));
    const { driver } = this.broker;
    await driver
      .run(async (exec) => {
        await exec.execute(`UPDATE ${this.broker.t('broker_leases')} SET owner = '', expires_at = 0 WHERE group_name = ? AND owner = ?`, [
          this.options.group,
          this.memberId,
        ]);
        await exec.execute(`DELETE FROM ${this.broker.t('broker_members')} WHERE group_name = ? AND member_id = ?`, [
          this.options.group,
          this.memberId,
        ]);
      })
      .catch((error: unknown) => this.broker.settings.logger.warn({ err: error }, 'could not release partition leases'));
  }
}
