import { backoffDelay, defaultBackoff } from '../consumer/backoff.js';
import type { SubscribeOptions } from '../ports/broker.js';
import { WakeSignal } from '../util/wake-signal.js';
import { ENVELOPE_COLUMNS, envelopeFromRow, type EnvelopeRow } from './envelope-row.js';
import type { SqlBroker } from './sql-broker.js';
import type { OffsetOwner, SqlOffsetCommitter } from './sql-offset-committer.js';

/**
 * Delivers one partition of one channel to one group member, in offset order, committing
 * the offset after each batch the handler accepted. A rejected batch is delivered again.
 */
export class SqlPartitionConsumer implements OffsetOwner {
  private readonly wakeSignal = new WakeSignal();
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private removeWaker: (() => void) | undefined;
  /** The offset this worker has delivered up to (-1: none), known after its first read. */
  private committed: number | undefined;

  constructor(
    private readonly broker: SqlBroker,
    private readonly options: SubscribeOptions,
    private readonly memberId: string,
    readonly channel: string,
    readonly partition: number,
    /** False when the member's leases may have expired: start no new batch until renewed. */
    private readonly leaseValid: () => boolean = () => true,
    private readonly offsets: SqlOffsetCommitter,
    /** The group epoch this worker belongs to: its offsets are refused once it changed (a rebuild). */
    readonly epoch = 0,
  ) {}

  leaseLost(): void {
    this.broker.settings.logger.info(
      { group: this.options.group, channel: this.channel, partition: this.partition },
      'partition lease lost (or the group is being rebuilt); stopping',
    );
    this.abort.abort();
  }

  start(): void {
    this.removeWaker = this.broker.addWaker(this.channel, this.partition, this.wakeSignal);
    this.loop = this.run();
  }

  /**
   * The partition's next free offset, as a poll of every partition's head saw it: wakes this
   * worker when messages are waiting past what it has delivered. One such poll per member
   * replaces a read per partition when cross-process notifications may have been missed.
   */
  noteHead(nextOffset: number): void {
    if (this.committed === undefined || nextOffset - 1 > this.committed) this.wakeSignal.wake();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.removeWaker?.();
    await this.loop;
    await this.offsets.flushOwner(this);
  }

  private async run(): Promise<void> {
    const { driver } = this.broker;
    const { logger, clock } = this.broker.settings;
    // With a heads poll (see noteHead) the worker's own timer is only a last resort.
    const pollIntervalMs = this.broker.settings.pollIntervalMs * (this.broker.pollsHeads ? 30 : 1);
    const d = driver.dialect;
    const q = d.quote('partition');
    const t = (n: string) => this.broker.t(n);
    const group = this.options.group;
    const limit = Math.min(this.options.maxBatchSize ?? this.broker.settings.maxBatchSize, 1000);
    const signal = this.abort.signal;
    let failures = 0;

    while (!signal.aborted) {
      if (!this.leaseValid()) {
        await clock.sleep(pollIntervalMs, signal);
        continue;
      }
      try {
        if (this.committed === undefined) {
          const rows = await driver.run((exec) =>
            exec.query<{ committed: number | string }>(
              `SELECT committed FROM ${t('broker_offsets')} WHERE group_name = ? AND channel = ? AND ${q} = ?`,
              [group, this.channel, this.partition],
            ),
          );
          this.committed = Number(rows[0]?.committed ?? -1);
        }
        const rows = await driver.run((exec) =>
          exec.query<EnvelopeRow & { msg_offset: number | string }>(
            `SELECT msg_offset, ${ENVELOPE_COLUMNS.join(', ')} FROM ${t('broker_messages')} ` +
              `WHERE channel = ? AND ${q} = ? AND msg_offset > ? ORDER BY msg_offset LIMIT ?`,
            [this.channel, this.partition, this.committed, limit],
          ),
        );
        if (rows.length === 0) {
          await this.wakeSignal.wait(pollIntervalMs, signal);
          continue;
        }
        if (signal.aborted) return;
        const messages = rows.map(envelopeFromRow);
        await this.options.handler({ channel: this.channel, partition: this.partition, messages });
        const last = Number(rows[rows.length - 1]!.msg_offset);
        if (this.offsets.deferred) this.offsets.record(this, last);
        else if (!(await this.offsets.commitNow(this, last))) {
          logger.info({ group, channel: this.channel, partition: this.partition }, 'partition lease lost; stopping');
          return;
        }
        this.committed = last;
        failures = 0;
        // A short batch drained the partition as of the read: anything published since then
        // has woken the signal (wakes latch), so ask again only when woken, not at once. This
        // saves an empty read (a commit on a server database) after every batch.
        if (rows.length < limit) await this.wakeSignal.wait(pollIntervalMs, signal);
      } catch (error) {
        if (signal.aborted) return;
        failures++;
        logger.warn(
          { err: error, group, channel: this.channel, partition: this.partition, failures },
          'batch not acknowledged; delivering again',
        );
        this.committed = undefined;
        await clock.sleep(backoffDelay(defaultBackoff, failures), signal);
      }
    }
  }
}
