import type { DeliveryBatch } from '../ports/broker.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { planRebalance } from './fair-share.js';
import { PartitionLoop } from './partition-loop.js';
import { partitionName, type GroupView, type HeldLease, type LeaseTable, type PartitionRef, type PartitionSource } from './ports.js';

export interface ConsumerGroupMemberOptions<Token> {
  readonly memberId: string;
  readonly group: string;
  /** Every partition of the subscribed channels. */
  readonly partitions: readonly PartitionRef[];
  readonly leases: LeaseTable<Token>;
  readonly source: PartitionSource;
  readonly handler: (batch: DeliveryBatch) => Promise<void>;
  readonly maxBatchSize: number;
  /** How long a lease lasts without renewal: renewals run every third of it. */
  readonly leaseMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

interface Held<Token> {
  readonly name: string;
  readonly partition: PartitionRef;
  token: Token;
  /** Local time until which the lease is surely still ours: the renewal's send time + leaseMs. */
  validUntil: number;
  leaving: boolean;
  readonly loop: PartitionLoop;
}

/**
 * One member of a consumer group, the same for every broker: it keeps its membership alive,
 * renews the leases it holds (and stops the workers of those it lost), holds its fair share of
 * the group's partitions (planRebalance), and runs a PartitionLoop per partition it holds. A
 * partition is given back only after its loop finished and committed the batch in hand.
 * Renewals and rebalances run apart, so a slow give-back never lets the other leases lapse.
 */
export class ConsumerGroupMember<Token = unknown> {
  private readonly held = new Map<string, Held<Token>>();
  private readonly stopping = new Set<Promise<void>>();
  /** Leases whose release failed: tried again each renewal, so no table keeps them ours. */
  private readonly unreleased = new Map<string, HeldLease<Token>>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private renewing: Promise<void> | undefined;
  private rebalancing: Promise<void> | undefined;
  private view: GroupView = { members: 1 };
  private generation: number | undefined;
  /** What `quiesced` last said; a new membership row starts as running (null). */
  private reportedQuiesce: number | null = null;
  private closing: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(private readonly options: ConsumerGroupMemberOptions<Token>) {
    this.log = options.logger.child({ group: options.group, member: options.memberId });
  }

  get memberId(): string {
    return this.options.memberId;
  }

  /**
   * Partitions this member holds for sure right now: none once a lease may have expired without
   * renewal (a stalled process), even before the next renewal notices, and none while paused.
   */
  assignedPartitions(): string[] {
    if (this.view.paused) return [];
    const now = this.options.clock.now();
    return [...this.held.values()].filter((h) => now < h.validUntil).map((h) => h.name).sort();
  }

  /**
   * Prepares the partitions, joins the group and takes a first share. If any of it fails, the
   * member is closed (workers stopped, leases and membership given back) before the error is
   * thrown, so a failed subscribe leaves nothing behind.
   */
  async start(): Promise<void> {
    try {
      await this.options.leases.prepare?.(this.options.partitions);
      await this.options.source.prepare?.(this.options.partitions);
      await this.renew();
      await this.rebalance();
    } catch (error) {
      await this.close().catch((closeError: unknown) => this.log.warn({ err: closeError }, 'cleanup after a failed start failed'));
      throw error;
    }
    if (this.closing) return;
    this.timer = setInterval(() => this.tick(), Math.max(50, Math.floor(this.options.leaseMs / 3)));
  }

  /** Looks at the group now rather than at the next tick (a rebuild began or ended). */
  rebalanceSoon(): void {
    this.tick();
  }

  private tick(): void {
    if (this.closing) return;
    const log = (what: string) => (error: unknown) => this.log.warn({ err: error }, what);
    // One round at a time: renew, then rebalance with what the heartbeat saw.
    this.renewing ??= this.renew()
      .catch(log('membership or lease renewal failed'))
      .finally(() => (this.renewing = undefined));
    this.rebalancing ??= this.renewing
      .then(() => this.rebalance())
      .catch(log('partition rebalance failed'))
      .finally(() => (this.rebalancing = undefined));
  }

  /** Heartbeat, generation check, and renewal of every held lease; drops (and stops) the ones lost. */
  private async renew(): Promise<void> {
    const { leases, clock, leaseMs, memberId } = this.options;
    const view = await leases.heartbeat(memberId);
    this.view = view;
    const generation = view.generation ?? 0;
    if (view.paused || generation !== this.generation) {
      // Stop every worker (their pending commits are refused, being of the old generation), free
      // the leases, and, while paused, start none. See docs/decisions/010-coordinated-view-rebuild.md.
      this.generation = generation;
      const all = [...this.held.values()];
      this.held.clear();
      await Promise.all(all.map((h) => h.loop.stop()));
      for (const h of all) await this.release(h);
    }
    const quiesce = view.paused ? generation : null;
    if (leases.quiesced && (quiesce !== null || quiesce !== this.reportedQuiesce)) {
      await leases.quiesced(memberId, quiesce);
      this.reportedQuiesce = quiesce;
    }
    for (const [name, lease] of this.unreleased) {
      if (this.held.has(name)) this.unreleased.delete(name);
      else await this.release(lease);
    }
    const renewing = [...this.held.values()];
    if (renewing.length === 0) return;
    const sentAt = clock.now();
    const results = await leases.renew(memberId, renewing);
    for (const [i, h] of renewing.entries()) {
      if (this.held.get(h.name) !== h) continue;
      const result = results[i] ?? 'unknown';
      if (result === 'unknown') continue;
      if (result === 'lost') {
        this.log.info({ partition: h.name }, 'partition lease lost');
        this.drop(h);
        continue;
      }
      h.token = result.token;
      // From the send time: never later than the expiry the table stored.
      h.validUntil = sentAt + leaseMs;
    }
  }

  private async rebalance(): Promise<void> {
    if (this.closing || this.view.paused) return;
    const { leases, clock, leaseMs, memberId, partitions } = this.options;
    const staying = [...this.held.values()].filter((h) => !h.leaving);
    const plan = planRebalance(memberId, partitions, this.view.members, staying.map((h) => h.name));
    for (const name of plan.giveBack) {
      if (this.closing) return;
      const h = this.held.get(name);
      if (h) await this.giveBack(h);
    }
    for (const partition of plan.candidates) {
      if (this.held.size >= plan.fairShare || this.closing || this.view.paused) break;
      const sentAt = clock.now();
      const token = await leases.claim(memberId, partition);
      if (token === undefined) continue;
      if (this.closing || this.view.paused) {
        await this.release({ partition, token });
        break;
      }
      this.startLoop(partition, token, sentAt + leaseMs);
    }
  }

  private startLoop(partition: PartitionRef, token: Token, validUntil: number): void {
    const { source, handler, maxBatchSize, clock } = this.options;
    const name = partitionName(partition);
    const h: Held<Token> = {
      name,
      partition,
      token,
      validUntil,
      leaving: false,
      loop: new PartitionLoop(partition, {
        source,
        handler,
        maxBatchSize,
        generation: this.generation ?? 0,
        leaseValid: () => clock.now() < h.validUntil,
        onLost: () => {
          if (this.held.get(name) !== h) return;
          this.held.delete(name);
          // Fencing refused a commit: the lease is another member's (this release then changes
          // nothing) or of a generation the group left; either way renewals must not keep it.
          this.track(this.release(h));
        },
        clock,
        logger: this.log,
      }),
    };
    this.held.set(name, h);
    h.loop.start();
  }

  /** Forgets a lease another member now holds, stopping its loop in the background. */
  private drop(h: Held<Token>): void {
    this.held.delete(h.name);
    this.track(h.loop.stop());
  }

  /** Background work close() waits for; its errors are only logged. */
  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => this.log.debug({ err: error }, 'background lease work failed'));
    this.stopping.add(tracked);
    tracked.then(
      () => this.stopping.delete(tracked),
      () => undefined,
    );
  }

  /** Stops the loop (its batch finishes and commits), then frees the lease. */
  private async giveBack(h: Held<Token>): Promise<void> {
    h.leaving = true;
    await h.loop.stop(); // renewals go on meanwhile
    if (this.held.get(h.name) !== h) return; // lost while finishing
    this.held.delete(h.name);
    await this.renewing; // a renewal in flight may change the token
    await this.release(h);
  }

  /**
   * Frees a lease; a failure is remembered and tried again at the next renewal, since a table
   * that renews every lease of a member (SQL) would otherwise keep it ours and unread.
   */
  private async release(lease: HeldLease<Token>): Promise<void> {
    const name = partitionName(lease.partition);
    try {
      await this.options.leases.release(this.options.memberId, lease);
      this.unreleased.delete(name);
    } catch (error) {
      this.log.debug({ err: error, partition: name }, 'lease not released; trying again at the next renewal');
      this.unreleased.set(name, lease);
    }
  }

  /** Stops every loop, writes deferred commits, then gives back the leases and the membership. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    clearInterval(this.timer);
    await this.rebalancing;
    await this.renewing;
    const held = [...this.held.values()];
    await Promise.all(held.map((h) => h.loop.stop()));
    await Promise.all(this.stopping);
    try {
      await this.options.source.close?.();
    } catch (error) {
      this.log.warn({ err: error }, 'could not write deferred commits at close');
    }
    const leases: Array<HeldLease<Token>> = held.filter((h) => this.held.get(h.name) === h);
    this.held.clear();
    await this.options.leases.leave(this.options.memberId, leases).catch((error: unknown) => {
      this.log.warn({ err: error }, 'could not release partition leases; they will expire');
    });
  }
}
