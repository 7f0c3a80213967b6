import { newId } from '../ids.js';
import type { SubscribeOptions } from '../ports/broker.js';
import type { SqlBroker } from './sql-broker.js';
import { SqlOffsetCommitter } from './sql-offset-committer.js';
import { SqlPartitionConsumer } from './sql-partition-consumer.js';

/**
 * One member of a consumer group: keeps a heartbeat, takes its fair share of partition leases,
 * gives back what is over its share, and runs one worker per partition it holds.
 */
export class SqlBrokerSubscription {
  readonly memberId = newId();
  private readonly workers = new Map<string, SqlPartitionConsumer>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private headsTimer: ReturnType<typeof setInterval> | undefined;
  private pollingHeads = false;
  private readonly offsets: SqlOffsetCommitter;
  private rebalancing: Promise<void> = Promise.resolve();
  private closed = false;

  /** The group epoch the running workers belong to; they stop when it changes. */
  private epoch: number | undefined;
  private paused = false;

  constructor(
    private readonly broker: SqlBroker,
    private readonly options: SubscribeOptions,
  ) {
    this.offsets = new SqlOffsetCommitter(broker, options.group, this.memberId, broker.settings.offsetCommitIntervalMs);
  }

  get group(): string {
    return this.options.group;
  }

  /** A rebuild began or ended: look at the group now rather than at the next tick. */
  rebalanceSoon(): void {
    this.rebalancing = this.rebalancing.then(() => this.rebalance()).catch((error: unknown) => {
      this.broker.settings.logger.warn({ err: error, group: this.options.group }, 'partition rebalance failed');
    });
  }

  /**
   * Partitions whose lease this member holds for sure right now: none once the lease may have
   * expired without renewal (a stalled process), even before the next rebalance notices.
   */
  assignedPartitions(): string[] {
    return this.leaseValid() && !this.paused ? [...this.workers.keys()].sort() : [];
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
    this.timer = setInterval(() => this.rebalanceSoon(), every);
    // pollHeads catches its own errors.
    if (this.broker.pollsHeads) this.headsTimer = setInterval(() => this.pollHeads().catch(() => undefined), this.broker.settings.pollIntervalMs);
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

    // A rebuild of the group (here or on another instance): stop every worker (their pending
    // offsets are refused, being of the old epoch), free the leases, say so, and start none
    // until it is over. Workers of an older epoch are replaced by fresh ones reading the
    // rewound offsets. See docs/decisions/010-coordinated-view-rebuild.md.
    const state = await driver.run((exec) => this.broker.epochs.read(exec, group));
    this.paused = state.rebuildingBy !== null;
    if (this.paused || state.epoch !== this.epoch) {
      const stale = [...this.workers.values()];
      this.workers.clear();
      await Promise.all(stale.map((w) => w.stop()));
      await driver.run((exec) =>
        exec.execute(`UPDATE ${t('broker_leases')} SET owner = '', expires_at = 0 WHERE group_name = ? AND owner = ?`, [group, this.memberId]),
      );
      this.epoch = state.epoch;
    }
    await driver.run((exec) =>
      exec.execute(`UPDATE ${t('broker_members')} SET paused_epoch = ? WHERE group_name = ? AND member_id = ?`, [
        this.paused ? state.epoch : null,
        group,
        this.memberId,
      ]),
    );

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

    if (this.workers.size >= fairShare || this.closed || this.paused) return;
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
      const worker = new SqlPartitionConsumer(
        this.broker,
        this.options,
        this.memberId,
        channel,
        partition,
        () => this.leaseValid(),
        this.offsets,
        this.epoch ?? 0,
      );
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
