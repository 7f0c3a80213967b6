import type { Logger } from '@concord/core';
import type { DeliveryBatch } from '@concord/core/spi';
import type { AmqpConfirmChannel } from './amqp-client.js';
import type { ChannelTopology } from './channel-topology.js';
import { PartitionLease, type LeaseStart } from './partition-lease.js';
import { PartitionReader } from './partition-reader.js';
import type { RabbitConnection } from './rabbit-connection.js';
import type { RabbitNames } from './rabbit-names.js';
import type { RabbitBrokerSettings } from './rabbit-options.js';

export interface PartitionWorkerContext {
  readonly connection: RabbitConnection;
  readonly settings: RabbitBrokerSettings;
  readonly names: RabbitNames;
  readonly topology: ChannelTopology;
  /** The session's channel: lease consumers live (and die) with it. */
  readonly sessionChannel: AmqpConfirmChannel;
  readonly group: string;
  readonly maxBatchSize: number;
  readonly handler: (batch: DeliveryBatch) => Promise<void>;
  readonly onFailure: (error: Error) => void;
  readonly logger: Logger;
}

type State = 'standby' | 'active' | 'releasing' | 'stopped';

/**
 * One partition of one channel for this member: a lease claim, and once RabbitMQ made the
 * claim active, a reader from the committed offset. Giving it up stops the reader after its
 * batch, commits, and only then lets the next owner in.
 */
export class PartitionWorker {
  private state: State = 'standby';
  private readonly lease: PartitionLease;
  private reader: PartitionReader | undefined;
  private readonly logger: Logger;

  constructor(
    private readonly ctx: PartitionWorkerContext,
    readonly channel: string,
    readonly partition: number,
  ) {
    this.logger = ctx.logger.child({ channel, partition });
    this.lease = new PartitionLease(
      ctx.sessionChannel,
      ctx.topology,
      ctx.names.lease(ctx.group, channel, partition),
      ctx.settings.commitIntervalMs,
      (start) => this.onActivated(start),
      (error) => ctx.onFailure(error),
      this.logger,
    );
  }

  claim(): Promise<void> {
    return this.lease.claim();
  }

  /** Owns the partition and reads it. */
  get active(): boolean {
    return this.state === 'active';
  }

  async release(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'releasing') return;
    this.state = 'releasing';
    const next = this.reader ? await this.reader.stop() : undefined;
    await this.lease.release(next);
    this.state = 'stopped';
    this.logger.debug({}, 'partition released');
  }

  /** For a dead session: stops reading after the batch in flight; RabbitMQ already freed the lease. */
  async abort(): Promise<void> {
    this.state = 'stopped';
    this.lease.abandon();
    await this.reader?.stop();
  }

  private onActivated(start: LeaseStart): void {
    if (this.state !== 'standby') return;
    this.state = 'active';
    this.logger.debug({ next: start.next }, 'partition lease active');
    const { connection, settings, names, maxBatchSize, handler, onFailure } = this.ctx;
    const reader = new PartitionReader({
      connection,
      settings,
      stream: names.stream(this.channel, this.partition),
      channel: this.channel,
      partition: this.partition,
      start,
      maxBatchSize,
      handler,
      onProgress: (next) => this.lease.commit(next),
      onFailure,
      logger: this.logger,
    });
    this.reader = reader;
    reader.start().catch((error: Error) => onFailure(error));
  }
}
