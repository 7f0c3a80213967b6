import type { Logger } from '@concord/core';
import type { SubscribeOptions } from '@concord/core/spi';
import type { AmqpConfirmChannel } from './amqp-client.js';
import { assignPartitions, partitionKey } from './assignment.js';
import { DECLARE_CONCURRENCY, type ChannelTopology } from './channel-topology.js';
import { GroupMembership } from './group-membership.js';
import { PartitionWorker } from './partition-worker.js';
import type { RabbitConnection } from './rabbit-connection.js';
import { errorMessage } from './rabbit-errors.js';
import type { RabbitNames } from './rabbit-names.js';
import { runLimited } from './run-limited.js';
import type { RabbitBrokerSettings } from './rabbit-options.js';

export interface GroupSessionContext {
  readonly connection: RabbitConnection;
  readonly settings: RabbitBrokerSettings;
  readonly names: RabbitNames;
  readonly topology: ChannelTopology;
  readonly memberId: string;
  readonly options: SubscribeOptions;
  readonly logger: Logger;
}

/**
 * A member's life on one channel of one connection: membership announcements, lease claims
 * for its fair share, and the readers of the partitions it owns. When the channel or a reader
 * fails the whole session ends (RabbitMQ frees its leases) and the subscription starts another.
 */
export class GroupSession {
  private ch: AmqpConfirmChannel | undefined;
  private membership: GroupMembership | undefined;
  private readonly workers = new Map<string, PartitionWorker>();
  private readonly counts = new Map<string, number>();
  private rebalancing: Promise<void> = Promise.resolve();
  private rebalanceQueued = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private ending = false;
  private closing: Promise<void> | undefined;
  private end!: (reason: Error) => void;
  /** Resolves with the reason the session broke (never when it is closed on purpose). */
  readonly ended = new Promise<Error>((resolve) => (this.end = resolve));

  constructor(private readonly ctx: GroupSessionContext) {}

  async open(): Promise<void> {
    const { connection, settings, topology, names, options, memberId } = this.ctx;
    const ch = await connection.createConfirmChannel(settings.publishTimeoutMs);
    this.ch = ch;
    ch.once('close', () => this.fail(new Error('session channel closed')));
    // Per consumer: a lease consumer takes its offset message and nothing more.
    await ch.prefetch(1);
    for (const channel of options.channels) this.counts.set(channel, await topology.partitionsOf(channel));
    this.membership = new GroupMembership(ch, {
      exchange: names.membershipExchange(),
      group: options.group,
      self: { id: memberId, channels: [...options.channels] },
      timeoutMs: settings.memberTimeoutMs,
      clock: settings.clock,
      logger: this.ctx.logger,
      onChange: () => this.scheduleRebalance(),
    });
    await this.membership.start();
    // Long enough for the others' answers to our hello, so we rarely claim what is theirs.
    await settings.clock.sleep(Math.min(300, Math.floor(settings.memberTimeoutMs / 3)));
    this.scheduleRebalance();
    await this.rebalancing;
    if (this.ending) throw new Error('group session failed while starting');
    this.timer = setInterval(() => this.scheduleRebalance(), Math.max(50, Math.floor(settings.memberTimeoutMs / 3)));
  }

  /** Partitions owned right now, as `channel/partition`. */
  assigned(): string[] {
    return [...this.workers]
      .filter(([, w]) => w.active)
      .map(([key]) => key)
      .sort();
  }

  /**
   * Ends the session. `graceful`: finish batches in flight, commit, hand partitions over
   * and say goodbye; otherwise only wait for batches in flight (the channel is gone).
   */
  close(graceful: boolean): Promise<void> {
    this.closing ??= this.shutdown(graceful);
    return this.closing;
  }

  private async shutdown(graceful: boolean): Promise<void> {
    this.ending = true;
    clearInterval(this.timer);
    this.membership?.stop(graceful);
    await this.rebalancing.catch(() => undefined);
    const workers = [...this.workers.values()];
    this.workers.clear();
    await Promise.all(
      workers.map(async (w) => {
        if (!graceful) return w.abort();
        try {
          await w.release();
        } catch (err) {
          this.ctx.logger.warn({ err: errorMessage(err), channel: w.channel, partition: w.partition }, 'could not hand a partition over');
          await w.abort();
        }
      }),
    );
    await this.ch?.close().catch(() => undefined);
  }

  private fail(reason: Error): void {
    if (this.ending) return;
    this.ending = true;
    this.end(reason);
  }

  private scheduleRebalance(): void {
    if (this.ending || this.rebalanceQueued) return;
    this.rebalanceQueued = true;
    this.rebalancing = this.rebalancing
      .then(() => {
        this.rebalanceQueued = false;
        return this.rebalance();
      })
      .catch((error: unknown) => this.fail(error instanceof Error ? error : new Error(String(error))));
  }

  private async rebalance(): Promise<void> {
    if (this.ending || !this.membership) return;
    const { memberId } = this.ctx;
    const desired = new Set(assignPartitions(this.membership.view(), this.counts).get(memberId) ?? []);
    const leaving = [...this.workers].filter(([key]) => !desired.has(key));
    for (const [key] of leaving) this.workers.delete(key);
    const joining: PartitionWorker[] = [];
    for (const channel of this.ctx.options.channels) {
      for (let p = 0; p < this.counts.get(channel)!; p++) {
        const key = partitionKey(channel, p);
        if (!desired.has(key) || this.workers.has(key)) continue;
        const worker = new PartitionWorker(this.workerContext(), channel, p);
        this.workers.set(key, worker);
        joining.push(worker);
      }
    }
    if (leaving.length > 0 || joining.length > 0) {
      this.ctx.logger.debug({ releasing: leaving.map(([k]) => k), claiming: joining.map((w) => `${w.channel}/${w.partition}`) }, 'rebalancing');
    }
    await Promise.all([
      ...leaving.map(([, w]) => w.release()),
      runLimited(joining, DECLARE_CONCURRENCY, (w) => w.claim()),
    ]);
  }

  private workerContext() {
    const { connection, settings, names, topology, options, logger } = this.ctx;
    return {
      connection,
      settings,
      names,
      topology,
      sessionChannel: this.ch!,
      group: options.group,
      maxBatchSize: options.maxBatchSize ?? settings.maxBatchSize,
      handler: options.handler,
      onFailure: (error: Error) => this.fail(error),
      logger,
    };
  }
}
