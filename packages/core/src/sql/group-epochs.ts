import type { SqlDriver, SqlExecutor } from './sql-driver.js';

export interface GroupEpoch {
  readonly epoch: number;
  /** Set while a rebuild runs: every member keeps its workers stopped. */
  readonly rebuildingBy: string | null;
  readonly rebuildingUntil: number | null;
}

const NONE: GroupEpoch = { epoch: 0, rebuildingBy: null, rebuildingUntil: null };

/** Reads and writes `broker_group_epochs`: the durable generation a group's offsets belong to. */
export class GroupEpochs {
  constructor(private readonly driver: SqlDriver) {}

  private get table(): string {
    return this.driver.dialect.table('broker_group_epochs');
  }

  async read(exec: SqlExecutor, group: string, forUpdate = false): Promise<GroupEpoch> {
    const rows = await exec.query<{ epoch: number | string; rebuilding_by: string | null; rebuilding_until: number | string | null }>(
      `SELECT epoch, rebuilding_by, rebuilding_until FROM ${this.table} WHERE group_name = ?${forUpdate ? this.driver.dialect.forUpdate : ''}`,
      [group],
    );
    const r = rows[0];
    if (!r) return NONE;
    return {
      epoch: Number(r.epoch),
      rebuildingBy: r.rebuilding_by ?? null,
      rebuildingUntil: r.rebuilding_until == null ? null : Number(r.rebuilding_until),
    };
  }

  /** Takes the group's rebuild lock and moves it to a new epoch; undefined when another rebuild holds it. */
  async begin(group: string, token: string, now: number, holdMs: number): Promise<number | undefined> {
    return this.driver.transaction(async (exec) => {
      await exec.execute(this.driver.dialect.insertIgnore(this.table, ['group_name', 'epoch']), [group, 0]);
      const current = await this.read(exec, group, true);
      if (current.rebuildingBy !== null && (current.rebuildingUntil ?? 0) > now) return undefined;
      const epoch = current.epoch + 1;
      await exec.execute(`UPDATE ${this.table} SET epoch = ?, rebuilding_by = ?, rebuilding_until = ? WHERE group_name = ?`, [
        epoch,
        token,
        now + holdMs,
        group,
      ]);
      return epoch;
    });
  }

  /** Releases the rebuild lock (members start again from the rewound offsets). */
  async end(group: string, token: string): Promise<void> {
    await this.driver.run((exec) =>
      exec.execute(`UPDATE ${this.table} SET rebuilding_by = NULL, rebuilding_until = NULL WHERE group_name = ? AND rebuilding_by = ?`, [
        group,
        token,
      ]),
    );
  }
}
