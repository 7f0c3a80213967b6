import type { GroupView, HeldLease, LeaseTable, PartitionRef, RenewResult } from '@concord/core/spi';
import type { BrokerContext } from './broker-context.js';

/** The value of a lease record nobody holds. */
const RELEASED = '';

/**
 * The consumer-group lease table on NATS: membership and lease records in the leases bucket,
 * which the server expires `leaseMs` after their last write. A lease is a compare-and-set
 * record; its revision is the fencing token, so a member that lost it cannot write it again.
 */
export class NatsLeaseTable implements LeaseTable<number> {
  constructor(
    private readonly ctx: BrokerContext,
    private readonly group: string,
  ) {}

  private key(p: PartitionRef): string {
    return this.ctx.names.leaseKey(this.group, p.channel, p.partition);
  }

  async heartbeat(member: string): Promise<GroupView> {
    const { leases, names } = this.ctx;
    await leases.put(names.memberKey(this.group, member), String(Date.now()));
    return { members: Math.max(1, await leases.count(names.membersFilter(this.group))) };
  }

  async claim(member: string, p: PartitionRef): Promise<number | undefined> {
    const { leases } = this.ctx;
    const current = await leases.get(this.key(p));
    if (current && current.value !== RELEASED) return undefined;
    return current ? leases.update(this.key(p), member, current.revision) : leases.create(this.key(p), member);
  }

  renew(member: string, held: ReadonlyArray<HeldLease<number>>): Promise<ReadonlyArray<RenewResult<number>>> {
    return Promise.all(
      held.map(async (lease): Promise<RenewResult<number>> => {
        try {
          const revision = await this.ctx.leases.update(this.key(lease.partition), member, lease.token);
          return revision === undefined ? 'lost' : { token: revision };
        } catch (error) {
          // Outcome unknown (disconnected): keep it; the worker pauses once its validity passes.
          this.ctx.logger.debug({ err: error, group: this.group, ...lease.partition }, 'lease renewal failed');
          return 'unknown';
        }
      }),
    );
  }

  async release(_member: string, lease: HeldLease<number>): Promise<void> {
    await this.ctx.leases.update(this.key(lease.partition), RELEASED, lease.token);
  }

  async leave(member: string, held: ReadonlyArray<HeldLease<number>>): Promise<void> {
    const { leases, names, logger } = this.ctx;
    await Promise.all(
      held.map((lease) =>
        this.release(member, lease).catch((error: unknown) => logger.debug({ err: error, ...lease.partition }, 'lease not released; it will expire')),
      ),
    );
    await leases.remove(names.memberKey(this.group, member)).catch((error: unknown) => {
      logger.debug({ err: error }, 'membership not removed; it will expire');
    });
  }
}
