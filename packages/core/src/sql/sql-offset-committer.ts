import type { SqlBroker } from './sql-broker.js';
import { writeLater } from './sql-driver.js';

/** What the committer needs of a partition worker. */
export interface OffsetOwner {
  readonly channel: string;
  readonly partition: number;
  /** The group epoch the owner started under (see GroupEpochs): a rebuild moves it on. */
  readonly epoch: number;
  /** The lease was found taken by another member: stop delivering. */
  leaseLost(): void;
}

/**
 * Commits a consumer group member's offsets in the background: every partition it advanced
 * within `intervalMs` in one fenced transaction, instead of one transaction per batch.
 * Delivery is at least once and consumers deduplicate, so a crash before a flush only
 * delivers those batches again; a stopping worker flushes its own partition first, so a
 * clean handover or shutdown delivers nothing twice.
 */
export class SqlOffsetCommitter {
  private readonly pending = new Map<OffsetOwner, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly broker: SqlBroker,
    private readonly group: string,
    private readonly memberId: string,
    private readonly intervalMs: number,
  ) {}

  /** False: every batch's offset is written at once (`commitNow`), as on SQLite. */
  get deferred(): boolean {
    return this.intervalMs > 0;
  }

  /** Writes `owner`'s offset now; false when its lease was found taken by another member. */
  async commitNow(owner: OffsetOwner, offset: number): Promise<boolean> {
    const lost = await this.write(new Map([[owner, offset]]));
    return lost.length === 0;
  }

  record(owner: OffsetOwner, offset: number): void {
    this.pending.set(owner, Math.max(offset, this.pending.get(owner) ?? -1));
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      // flush catches its own errors (and keeps the entries for the next one).
      this.flush().catch(() => undefined);
    }, this.intervalMs);
  }

  /** Writes what `owner` has pending now (used when its worker stops). */
  async flushOwner(owner: OffsetOwner): Promise<void> {
    await this.flushing;
    const offset = this.pending.get(owner);
    if (offset === undefined) return;
    this.pending.delete(owner);
    await this.write(new Map([[owner, offset]]));
  }

  /** Writes everything pending; failures keep the entries for the next flush. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = new Map(this.pending);
      this.pending.clear();
      try {
        for (const owner of await this.write(batch)) owner.leaseLost();
      } catch (error) {
        for (const [owner, offset] of batch) this.record(owner, Math.max(offset, this.pending.get(owner) ?? -1));
        this.broker.settings.logger.warn({ err: error, group: this.group }, 'committing consumer offsets failed; trying again');
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /**
   * Fenced: only the lease holder of the current group epoch moves an offset, and only
   * forward, so a member that lost a lease while busy can neither rewind nor skip the new
   * owner's progress, and a worker started before a rebuild cannot undo its rewind.
   */
  private async write(batch: Map<OffsetOwner, number>): Promise<OffsetOwner[]> {
    const { driver } = this.broker;
    const d = driver.dialect;
    const q = d.quote('partition');
    const t = (n: string) => this.broker.t(n);
    const ordered = [...batch].sort(([a], [b]) => (a.channel === b.channel ? a.partition - b.partition : a.channel < b.channel ? -1 : 1));
    return driver.transaction(async (exec) => {
      const lostOwners: OffsetOwner[] = [];
      // A rebuild moved the group to a new epoch (and may have rewound it): an offset from a
      // worker of the old epoch would overwrite the rewind, so it is refused like a lost lease.
      const group = await this.broker.epochs.read(exec, this.group);
      const current = ordered.filter(([owner]) => {
        const stale = owner.epoch !== group.epoch || group.rebuildingBy !== null;
        if (stale) lostOwners.push(owner);
        return !stale;
      });
      if (current.length === 0) return lostOwners;
      // Every lease in one locking read (in key order, like the offsets below), not one each.
      const leases = await exec.query<{ channel: string; partition: number | string; owner: string }>(
        `SELECT channel, ${q} AS ${q}, owner FROM ${t('broker_leases')} WHERE group_name = ? AND (channel, ${q}) IN (${current
          .map(() => '(?, ?)')
          .join(', ')}) ORDER BY channel, ${q}${d.forUpdate}`,
        [this.group, ...current.flatMap(([owner]) => [owner.channel, owner.partition])],
      );
      const held = new Set(leases.filter((l) => l.owner === this.memberId).map((l) => `${l.channel}\u0000${Number(l.partition)}`));
      for (const [owner, offset] of current) {
        if (!held.has(`${owner.channel}\u0000${owner.partition}`)) {
          lostOwners.push(owner);
          continue;
        }
        await writeLater(
          exec,
          `UPDATE ${t('broker_offsets')} SET committed = ? WHERE group_name = ? AND channel = ? AND ${q} = ? AND committed < ?`,
          [offset, this.group, owner.channel, owner.partition, offset],
        );
      }
      return lostOwners;
    });
  }
}
