import type { OpenPartition, PartitionReader, PartitionRef, PartitionSource, ReadOutcome } from '../consumer-group/ports.js';
import type { WakeSignal } from '../util/wake-signal.js';
import { envelopeFromRow } from './envelope-row.js';
import type { SqlBroker } from './sql-broker.js';
import { SqlOffsetCommitter, type OffsetOwner } from './sql-offset-committer.js';

/**
 * A group's partitions in `broker_messages`, with its positions in `broker_offsets`. One per
 * member: it owns the member's SqlOffsetCommitter (deferred, fenced commits of all its
 * partitions in one transaction) and, with cross-process notifications, one read of every
 * partition's head per poll interval instead of a read per partition (see `pollHeads`).
 */
export class SqlPartitionSource implements PartitionSource<number> {
  readonly idleWaitMs: number;
  private readonly offsets: SqlOffsetCommitter;
  private readonly readers = new Map<string, SqlPartitionReader>();
  private headsTimer: ReturnType<typeof setInterval> | undefined;
  private pollingHeads = false;
  /** A wake-up came while a heads poll ran: it may have read before that publish. */
  private pollAgain = false;
  private removeHeadPoller: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly broker: SqlBroker,
    readonly group: string,
    private readonly channels: readonly string[],
    memberId: string,
  ) {
    this.offsets = new SqlOffsetCommitter(broker, group, memberId, broker.settings.offsetCommitIntervalMs);
    // With a heads poll the reader's own idle wait is only a last resort.
    this.idleWaitMs = broker.settings.pollIntervalMs * (broker.pollsHeads ? 30 : 1);
  }

  /** Every (group, partition) starts at offset -1: before the oldest retained message. */
  async prepare(partitions: readonly PartitionRef[]): Promise<void> {
    const d = this.broker.driver.dialect;
    const sql = d.insertIgnore(this.broker.t('broker_offsets'), ['group_name', 'channel', d.quote('partition'), 'committed'], partitions.length);
    await this.broker.driver.run((exec) => exec.execute(sql, partitions.flatMap((p) => [this.group, p.channel, p.partition, -1])));
    // pollHeads catches its own errors.
    if (this.broker.pollsHeads) {
      this.headsTimer = setInterval(() => this.pollHeads().catch(() => undefined), this.broker.settings.pollIntervalMs);
      this.removeHeadPoller = this.broker.addHeadPoller(() => this.pollHeads().catch(() => undefined));
    }
  }

  async open(partition: PartitionRef, context: OpenPartition): Promise<PartitionReader<number>> {
    const key = `${partition.channel}/${partition.partition}`;
    const reader = new SqlPartitionReader(this.broker, this.group, partition, context, this.offsets, () => {
      if (this.readers.get(key) === reader) this.readers.delete(key);
    });
    this.readers.set(key, reader);
    return reader;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.headsTimer);
    this.removeHeadPoller?.();
    await this.offsets.close();
  }

  /** One read of every subscribed partition's next offset; wakes the readers that are behind. */
  private async pollHeads(): Promise<void> {
    if (this.pollingHeads) {
      this.pollAgain = true;
      return;
    }
    if (this.closed || this.readers.size === 0) return;
    this.pollingHeads = true;
    this.pollAgain = false;
    const q = this.broker.driver.dialect.quote('partition');
    try {
      const rows = await this.broker.driver.run((exec) =>
        exec.query<{ channel: string; partition: number | string; next_offset: number | string }>(
          `SELECT channel, ${q} AS ${q}, next_offset FROM ${this.broker.t('broker_partitions')} ` +
            `WHERE channel IN (${this.channels.map(() => '?').join(', ')})`,
          [...this.channels],
        ),
      );
      for (const r of rows) this.readers.get(`${r.channel}/${Number(r.partition)}`)?.noteHead(Number(r.next_offset));
    } catch (error) {
      this.broker.settings.logger.debug({ err: error, group: this.group }, 'reading partition heads failed; trying again');
    } finally {
      this.pollingHeads = false;
    }
    if (this.pollAgain) await this.pollHeads();
  }
}

/** One partition opened for one owner: reads after its position, commits through the member's committer. */
class SqlPartitionReader implements PartitionReader<number>, OffsetOwner {
  readonly channel: string;
  readonly partition: number;
  readonly epoch: number;
  private readonly wake: WakeSignal;
  private readonly removeWaker: () => void;
  /** The offset delivered up to (-1: none), known after the first read. */
  private position: number | undefined;
  private lost = false;

  constructor(
    private readonly broker: SqlBroker,
    private readonly group: string,
    p: PartitionRef,
    context: OpenPartition,
    private readonly offsets: SqlOffsetCommitter,
    private readonly onClose: () => void,
  ) {
    this.channel = p.channel;
    this.partition = p.partition;
    this.epoch = context.generation;
    this.wake = context.wake;
    this.removeWaker = broker.addWaker(p.channel, p.partition, context.wake);
  }

  /** A deferred commit found the lease taken (or the epoch moved on): the next read says so. */
  leaseLost(): void {
    this.lost = true;
    this.wake.wake();
  }

  /**
   * The partition's next free offset, as a poll of every partition's head saw it: wakes this
   * reader when messages are waiting past what it has delivered.
   */
  noteHead(nextOffset: number): void {
    if (this.position === undefined || nextOffset - 1 > this.position) this.wake.wake();
  }

  async read(requested: number): Promise<ReadOutcome<number>> {
    if (this.lost) return 'lost';
    const max = Math.min(requested, 1000);
    const { driver } = this.broker;
    const q = driver.dialect.quote('partition');
    if (this.position === undefined) {
      const rows = await driver.run((exec) =>
        exec.query<{ committed: number | string }>(
          `SELECT committed FROM ${this.broker.t('broker_offsets')} WHERE group_name = ? AND channel = ? AND ${q} = ?`,
          [this.group, this.channel, this.partition],
        ),
      );
      this.position = Number(rows[0]?.committed ?? -1);
    }
    const rows = await this.broker.partitionReads.read(this.channel, this.partition, this.position, max);
    if (rows.length === 0) return 'idle';
    this.position = Number(rows[rows.length - 1]!.msg_offset);
    return { messages: rows.map(envelopeFromRow), position: this.position, caughtUp: rows.length < max };
  }

  async commit(offset: number): Promise<boolean> {
    if (!this.offsets.deferred) return this.offsets.commitNow(this, offset);
    this.offsets.record(this, offset);
    return !this.lost;
  }

  async close(): Promise<void> {
    this.removeWaker();
    this.onClose();
    await this.offsets.flushOwner(this);
  }
}
