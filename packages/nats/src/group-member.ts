import { hashPartitionKey, newId, type SubscribeOptions } from '@concord/core';
import type { BrokerContext } from './broker-context.js';
import { PartitionWorker } from './partition-worker.js';

interface HeldLease {
  readonly channel: string;
  readonly partition: number;
  revision: number;
  /** Local monotonic time until which the lease is surely still ours on the server. */
  validUntil: number;
  worker: PartitionWorker;
}

const released = '';

/**
 * One member of a consumer group, as in core's SqlBroker: it keeps a membership record alive,
 * counts the live members, holds its fair share of partition leases (compare-and-set records
 * that expire on the server after `leaseMs`), gives back what is over its share, and runs one
 * worker per partition it holds. A partition is given back only after its worker finished and
 * acknowledged the batch in hand.
 */
export class GroupMember {
  readonly memberId = newId();
  private readonly held = new Map<string, HeldLease>();
  private all: Array<[string, number]> = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private rebalancing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly ctx: BrokerContext,
    private readonly options: SubscribeOptions,
  ) {}

  assignedPartitions(): string[] {
    return [...this.held.keys()].sort();
  }

  async start(): Promise<void> {
    for (const channel of this.options.channels) {
      const n = await this.ctx.topology.partitionsOf(channel);
      for (let p = 0; p < n; p++) this.all.push([channel, p]);
    }
    await this.rebalance();
    const every = Math.max(100, Math.floor(this.ctx.settings.leaseMs / 3));
    this.timer = setInterval(() => {
      this.rebalancing = this.rebalancing.then(() => this.rebalance()).catch((error: unknown) => {
        this.ctx.logger.warn({ err: error, group: this.options.group }, 'partition rebalance failed');
      });
    }, every);
  }

  /** After a reconnect, pull requests may be gone with the old server process. */
  requestAgain(): void {
    for (const lease of this.held.values()) lease.worker.requestAgain();
  }

  private key(channel: string, partition: number): string {
    return `${channel}/${partition}`;
  }

  private async rebalance(): Promise<void> {
    if (this.closed) return;
    const { leases, names } = this.ctx;
    const group = this.options.group;
    await leases.put(names.memberKey(group, this.memberId), String(Date.now()));
    await this.renew();
    const live = Math.max(1, await leases.count(names.membersFilter(group)));
    const fairShare = Math.ceil(this.all.length / live);

    for (const key of [...this.held.keys()].slice(fairShare)) {
      if (this.closed) return;
      await this.giveBack(key);
    }
    if (this.held.size >= fairShare) return;
    const start = hashPartitionKey(this.memberId) % this.all.length;
    for (const [channel, partition] of [...this.all.slice(start), ...this.all.slice(0, start)]) {
      if (this.held.size >= fairShare || this.closed) break;
      if (!this.held.has(this.key(channel, partition))) await this.tryClaim(channel, partition);
    }
  }

  private async renew(): Promise<void> {
    const { leases, names, settings } = this.ctx;
    await Promise.all(
      [...this.held.entries()].map(async ([key, lease]) => {
        const sentAt = performance.now();
        const leaseKey = names.leaseKey(this.options.group, lease.channel, lease.partition);
        let revision: number | undefined;
        try {
          revision = await leases.update(leaseKey, this.memberId, lease.revision);
        } catch (error) {
          // Unknown outcome (disconnected): keep it; the worker pauses once validUntil passes.
          this.ctx.logger.debug({ err: error, key }, 'lease renewal failed');
          return;
        }
        if (revision === undefined) {
          this.ctx.logger.info({ group: this.options.group, partition: key }, 'partition lease lost');
          this.held.delete(key);
          await lease.worker.stop();
          return;
        }
        lease.revision = revision;
        lease.validUntil = sentAt + settings.leaseMs;
      }),
    );
  }

  private async tryClaim(channel: string, partition: number): Promise<void> {
    const { leases, names, settings } = this.ctx;
    const leaseKey = names.leaseKey(this.options.group, channel, partition);
    const current = await leases.get(leaseKey);
    if (current && current.value !== released) return;
    const sentAt = performance.now();
    const revision = current ? await leases.update(leaseKey, this.memberId, current.revision) : await leases.create(leaseKey, this.memberId);
    if (revision === undefined) return;
    const lease: HeldLease = { channel, partition, revision, validUntil: sentAt + settings.leaseMs, worker: undefined as never };
    lease.worker = new PartitionWorker(this.ctx, this.options, channel, partition, {
      isValid: () => performance.now() < lease.validUntil,
    });
    this.held.set(this.key(channel, partition), lease);
    lease.worker.start();
  }

  /** Stops the worker (its batch finishes and is acknowledged), then frees the lease. */
  private async giveBack(key: string): Promise<void> {
    const lease = this.held.get(key);
    if (!lease) return;
    this.held.delete(key);
    await lease.worker.stop();
    const leaseKey = this.ctx.names.leaseKey(this.options.group, lease.channel, lease.partition);
    await this.ctx.leases.update(leaseKey, released, lease.revision).catch((error: unknown) => {
      this.ctx.logger.debug({ err: error, key }, 'lease not released; it will expire');
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.rebalancing;
    await Promise.all([...this.held.keys()].map((key) => this.giveBack(key)));
    await this.ctx.leases.remove(this.ctx.names.memberKey(this.options.group, this.memberId)).catch((error: unknown) => {
      this.ctx.logger.debug({ err: error }, 'membership not removed; it will expire');
    });
  }
}
