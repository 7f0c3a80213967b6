import { hashPartitionKey, newId, type SubscribeOptions } from '@concord/core';
import type { BrokerContext } from './broker-context.js';
import { PartitionWorker } from './partition-worker.js';

interface HeldLease {
  readonly key: string;
  readonly channel: string;
  readonly partition: number;
  revision: number;
  /** Local monotonic time until which the lease is surely still ours on the server. */
  validUntil: number;
  /** The renewal in flight, so a release never races it with a stale revision. */
  renewal: Promise<void>;
  leaving: boolean;
  worker: PartitionWorker;
}

const released = '';

/**
 * One member of a consumer group, as in core's SqlBroker: it keeps a membership record alive,
 * counts the live members, holds its fair share of partition leases (compare-and-set records
 * that expire on the server after `leaseMs`), gives back what is over its share, and runs one
 * worker per partition it holds. A partition is given back only after its worker finished and
 * acknowledged the batch in hand. Renewals run on their own, so a slow give-back never lets
 * the other leases lapse.
 */
export class GroupMember {
  readonly memberId = newId();
  private readonly held = new Map<string, HeldLease>();
  private readonly stopping = new Set<Promise<void>>();
  private all: Array<[string, number]> = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private heartbeat: Promise<void> | undefined;
  private rebalancing: Promise<void> | undefined;
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
    await this.renew();
    await this.rebalance();
    this.timer = setInterval(() => this.tick(), Math.max(100, Math.floor(this.ctx.settings.leaseMs / 3)));
  }

  /** After a reconnect, pull requests may be gone with the old server process. */
  requestAgain(): void {
    for (const lease of this.held.values()) lease.worker.requestAgain();
  }

  private tick(): void {
    if (this.closed) return;
    const log = (what: string) => (error: unknown) => this.ctx.logger.warn({ err: error, group: this.options.group }, what);
    this.heartbeat ??= this.renew()
      .catch(log('membership or lease renewal failed'))
      .finally(() => (this.heartbeat = undefined));
    this.rebalancing ??= this.rebalance()
      .catch(log('partition rebalance failed'))
      .finally(() => (this.rebalancing = undefined));
  }

  /** Keeps the membership and every held lease alive; drops (and stops) the ones lost. */
  private async renew(): Promise<void> {
    const { leases, names } = this.ctx;
    await leases.put(names.memberKey(this.options.group, this.memberId), String(Date.now()));
    await Promise.all(
      [...this.held.values()].map((lease) => {
        lease.renewal = lease.renewal.then(() => this.renewOne(lease));
        return lease.renewal;
      }),
    );
  }

  private async renewOne(lease: HeldLease): Promise<void> {
    if (this.held.get(lease.key) !== lease) return;
    const { leases, names, settings } = this.ctx;
    const sentAt = performance.now();
    let revision: number | undefined;
    try {
      revision = await leases.update(names.leaseKey(this.options.group, lease.channel, lease.partition), this.memberId, lease.revision);
    } catch (error) {
      // Outcome unknown (disconnected): keep it; the worker pauses once validUntil passes.
      this.ctx.logger.debug({ err: error, partition: lease.key }, 'lease renewal failed');
      return;
    }
    if (revision === undefined) {
      this.ctx.logger.info({ group: this.options.group, partition: lease.key }, 'partition lease lost');
      this.held.delete(lease.key);
      this.track(lease.worker.stop());
      return;
    }
    lease.revision = revision;
    lease.validUntil = sentAt + settings.leaseMs;
  }

  private async rebalance(): Promise<void> {
    if (this.closed) return;
    const live = Math.max(1, await this.ctx.leases.count(this.ctx.names.membersFilter(this.options.group)));
    const fairShare = Math.ceil(this.all.length / live);
    const staying = [...this.held.values()].filter((l) => !l.leaving);
    for (const lease of staying.slice(fairShare)) {
      if (this.closed) return;
      await this.giveBack(lease);
    }
    if (this.held.size >= fairShare) return;
    const start = hashPartitionKey(this.memberId) % this.all.length;
    for (const [channel, partition] of [...this.all.slice(start), ...this.all.slice(0, start)]) {
      if (this.held.size >= fairShare || this.closed) break;
      if (!this.held.has(`${channel}/${partition}`)) await this.tryClaim(channel, partition);
    }
  }

  private async tryClaim(channel: string, partition: number): Promise<void> {
    const { leases, names, settings } = this.ctx;
    const leaseKey = names.leaseKey(this.options.group, channel, partition);
    const current = await leases.get(leaseKey);
    if (current && current.value !== released) return;
    const sentAt = performance.now();
    const revision = current ? await leases.update(leaseKey, this.memberId, current.revision) : await leases.create(leaseKey, this.memberId);
    if (revision === undefined || this.closed) return;
    const lease: HeldLease = {
      key: `${channel}/${partition}`,
      channel,
      partition,
      revision,
      validUntil: sentAt + settings.leaseMs,
      renewal: Promise.resolve(),
      leaving: false,
      worker: undefined as never,
    };
    lease.worker = new PartitionWorker(this.ctx, this.options, channel, partition, {
      isValid: () => performance.now() < lease.validUntil,
    });
    this.held.set(lease.key, lease);
    lease.worker.start();
  }

  /** Stops the worker (its batch finishes and is acknowledged), then frees the lease. */
  private async giveBack(lease: HeldLease): Promise<void> {
    lease.leaving = true;
    await lease.worker.stop(); // renewals go on meanwhile
    if (this.held.get(lease.key) !== lease) return; // lost while finishing
    this.held.delete(lease.key);
    await lease.renewal;
    const leaseKey = this.ctx.names.leaseKey(this.options.group, lease.channel, lease.partition);
    await this.ctx.leases.update(leaseKey, released, lease.revision).catch((error: unknown) => {
      this.ctx.logger.debug({ err: error, partition: lease.key }, 'lease not released; it will expire');
    });
  }

  private track(stopping: Promise<void>): void {
    this.stopping.add(stopping);
    // Whoever stops the worker hears its error; here it only leaves the set.
    stopping.finally(() => this.stopping.delete(stopping)).catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.rebalancing;
    await Promise.all([...this.held.values()].map((lease) => this.giveBack(lease)));
    await this.heartbeat;
    await Promise.all(this.stopping);
    await this.ctx.leases.remove(this.ctx.names.memberKey(this.options.group, this.memberId)).catch((error: unknown) => {
      this.ctx.logger.debug({ err: error }, 'membership not removed; it will expire');
    });
  }
}
