import { backoffDelay, defaultBackoff } from '../consumer/backoff.js';
import type { SubscribeOptions } from '../ports/broker.js';
import { WakeSignal } from '../util/wake-signal.js';
import { ENVELOPE_COLUMNS, envelopeFromRow, type EnvelopeRow } from './envelope-row.js';
import type { SqlBroker } from './sql-broker.js';

/**
 * Delivers one partition of one channel to one group member, in offset order, committing
 * the offset after each batch the handler accepted. A rejected batch is delivered again.
 */
export class SqlPartitionConsumer {
  private readonly wakeSignal = new WakeSignal();
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private removeWaker: (() => void) | undefined;

  constructor(
    private readonly broker: SqlBroker,
    private readonly options: SubscribeOptions,
    private readonly memberId: string,
    readonly channel: string,
    readonly partition: number,
    /** False when the member's leases may have expired: start no new batch until renewed. */
    private readonly leaseValid: () => boolean = () => true,
    /** The group epoch this worker belongs to: its offset commits are refused once it changed. */
    private readonly epoch = 0,
  ) {}

  start(): void {
    this.removeWaker = this.broker.addWaker(this.channel, this.partition, this.wakeSignal);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.removeWaker?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { driver } = this.broker;
    const { logger, clock, pollIntervalMs } = this.broker.settings;
    const d = driver.dialect;
    const q = d.quote('partition');
    const t = (n: string) => this.broker.t(n);
    const group = this.options.group;
    const limit = Math.min(this.options.maxBatchSize ?? this.broker.settings.maxBatchSize, 1000);
    const signal = this.abort.signal;
    let committed: number | undefined;
    let failures = 0;

    while (!signal.aborted) {
      if (!this.leaseValid()) {
        await clock.sleep(pollIntervalMs, signal);
        continue;
      }
      try {
        if (committed === undefined) {
          const rows = await driver.run((exec) =>
            exec.query<{ committed: number | string }>(
              `SELECT committed FROM ${t('broker_offsets')} WHERE group_name = ? AND channel = ? AND ${q} = ?`,
              [group, this.channel, this.partition],
            ),
          );
          committed = Number(rows[0]?.committed ?? -1);
        }
        const rows = await driver.run((exec) =>
          exec.query<EnvelopeRow & { msg_offset: number | string }>(
            `SELECT msg_offset, ${ENVELOPE_COLUMNS.join(', ')} FROM ${t('broker_messages')} ` +
              `WHERE channel = ? AND ${q} = ? AND msg_offset > ? ORDER BY msg_offset LIMIT ?`,
            [this.channel, this.partition, committed, limit],
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
        // Fenced commit: only the lease holder moves the offset, so a member that lost its
        // lease while busy cannot rewind or skip the new owner's progress.
        const moved = await driver.transaction(async (exec) => {
          const lease = await exec.query<{ owner: string }>(
            `SELECT owner FROM ${t('broker_leases')} WHERE group_name = ? AND channel = ? AND ${q} = ?${d.forUpdate}`,
            [group, this.channel, this.partition],
          );
          if (lease[0]?.owner !== this.memberId) return false;
          // A rebuild moved the group to a new epoch (and may have rewound it): committing
          // this old position would overwrite the rewind.
          const state = await this.broker.epochs.read(exec, group);
          if (state.epoch !== this.epoch || state.rebuildingBy !== null) return false;
          await exec.execute(
            `UPDATE ${t('broker_offsets')} SET committed = ? WHERE group_name = ? AND channel = ? AND ${q} = ? AND committed < ?`,
            [last, group, this.channel, this.partition, last],
          );
          return true;
        });
        if (!moved) {
          logger.info({ group, channel: this.channel, partition: this.partition }, 'partition lease lost or group rebuilding; stopping');
          return;
        }
        committed = last;
        failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        failures++;
        logger.warn(
          { err: error, group, channel: this.channel, partition: this.partition, failures },
          'batch not acknowledged; delivering again',
        );
        committed = undefined;
        await clock.sleep(backoffDelay(defaultBackoff, failures), signal);
      }
    }
  }
}
