import type { GroupView, HeldLease, LeaseTable, PartitionRef, RenewResult } from '../consumer-group/ports.js';
import type { SqlBroker } from './sql-broker.js';

/**
 * The consumer-group lease table in `broker_members` and `broker_leases`, with the group's
 * rebuild epoch (`broker_group_epochs`) as its generation. A lease row names its owner; the
 * owner is the fencing token (offset commits check it), so the engine's token is unused.
 */
export class SqlLeaseTable implements LeaseTable<true> {
  constructor(
    private readonly broker: SqlBroker,
    private readonly group: string,
  ) {}

  private t(name: string): string {
    return this.broker.t(name);
  }

  private get q(): string {
    return this.broker.driver.dialect.quote('partition');
  }

  private get now(): number {
    return this.broker.settings.clock.now();
  }

  async prepare(partitions: readonly PartitionRef[]): Promise<void> {
    const d = this.broker.driver.dialect;
    const sql = d.insertIgnore(this.t('broker_leases'), ['group_name', 'channel', this.q, 'owner', 'expires_at'], partitions.length);
    await this.broker.driver.run((exec) => exec.execute(sql, partitions.flatMap((p) => [this.group, p.channel, p.partition, '', 0])));
  }

  /** One transaction: the member's heartbeat, forgetting dead members, the count, and the group epoch. */
  heartbeat(member: string): Promise<GroupView> {
    const { leaseMs } = this.broker.settings;
    const now = this.now;
    const members = this.t('broker_members');
    return this.broker.driver.transaction(async (exec) => {
      const changed = await exec.execute(`UPDATE ${members} SET heartbeat_at = ? WHERE group_name = ? AND member_id = ?`, [now, this.group, member]);
      if (changed === 0) {
        await exec.execute(`INSERT INTO ${members} (group_name, member_id, heartbeat_at) VALUES (?, ?, ?)`, [this.group, member, now]);
      }
      await exec.execute(`DELETE FROM ${members} WHERE group_name = ? AND heartbeat_at < ?`, [this.group, now - leaseMs]);
      const rows = await exec.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${members} WHERE group_name = ?`, [this.group]);
      const epoch = await this.broker.epochs.read(exec, this.group);
      return { members: Math.max(1, Number(rows[0]?.n ?? 1)), generation: epoch.epoch, paused: epoch.rebuildingBy !== null };
    });
  }

  async claim(member: string, p: PartitionRef): Promise<true | undefined> {
    const now = this.now;
    const claimed = await this.broker.driver.run((exec) =>
      exec.execute(
        `UPDATE ${this.t('broker_leases')} SET owner = ?, expires_at = ? WHERE group_name = ? AND channel = ? AND ${this.q} = ? ` +
          `AND (owner = '' OR expires_at < ?)`,
        [member, now + this.broker.settings.leaseMs, this.group, p.channel, p.partition, now],
      ),
    );
    return claimed === 1 ? true : undefined;
  }

  /** Two statements whatever the number of leases: renew all we own, then read back which those are. */
  async renew(member: string, held: ReadonlyArray<HeldLease<true>>): Promise<ReadonlyArray<RenewResult<true>>> {
    const leases = this.t('broker_leases');
    const expires = this.now + this.broker.settings.leaseMs;
    const rows = await this.broker.driver.run(async (exec) => {
      await exec.execute(`UPDATE ${leases} SET expires_at = ? WHERE group_name = ? AND owner = ?`, [expires, this.group, member]);
      return exec.query<{ channel: string; partition: number | string }>(
        `SELECT channel, ${this.q} AS ${this.q} FROM ${leases} WHERE group_name = ? AND owner = ?`,
        [this.group, member],
      );
    });
    const owned = new Set(rows.map((r) => `${r.channel}/${Number(r.partition)}`));
    return held.map((h) => (owned.has(`${h.partition.channel}/${h.partition.partition}`) ? { token: true } : 'lost'));
  }

  async release(member: string, lease: HeldLease<true>): Promise<void> {
    await this.broker.driver.run((exec) =>
      exec.execute(
        `UPDATE ${this.t('broker_leases')} SET owner = '', expires_at = 0 WHERE group_name = ? AND channel = ? AND ${this.q} = ? AND owner = ?`,
        [this.group, lease.partition.channel, lease.partition.partition, member],
      ),
    );
  }

  async leave(member: string): Promise<void> {
    await this.broker.driver.run(async (exec) => {
      await exec.execute(`UPDATE ${this.t('broker_leases')} SET owner = '', expires_at = 0 WHERE group_name = ? AND owner = ?`, [this.group, member]);
      await exec.execute(`DELETE FROM ${this.t('broker_members')} WHERE group_name = ? AND member_id = ?`, [this.group, member]);
    });
  }

  /** `broker_members.paused_epoch`: what a rebuild waits for (see SqlBroker.rebuild). */
  async quiesced(member: string, generation: number | null): Promise<void> {
    await this.broker.driver.run((exec) =>
      exec.execute(`UPDATE ${this.t('broker_members')} SET paused_epoch = ? WHERE group_name = ? AND member_id = ?`, [generation, this.group, member]),
    );
  }
}
