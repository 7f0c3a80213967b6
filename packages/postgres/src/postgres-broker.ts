import type { PoolClient } from 'pg';
import { ClosedError, SqlBroker, type MessageEnvelope, type SqlBrokerOptions } from '@concord/core';
import { BROKER_TOPIC, migrateOrClose, partitionFor, writeLater } from '@concord/core/spi';
import { openPostgresDriver } from './postgres-connect.js';
import type { PostgresDriver } from './postgres-driver.js';
import type { PostgresBrokerOptions } from './postgres-options.js';
import type { PostgresPoolClient } from './postgres-pool.js';

/**
 * The in-database broker on PostgreSQL. Same tables and semantics as core's `SqlBroker`; only
 * `publish` is PostgreSQL-specific: offsets for every partition of a batch are taken in one
 * statement (rows locked in one global order, so publishers never deadlock) and all messages
 * are inserted in one more, from arrays. Four round trips per batch, whatever its size or its
 * spread over partitions, where the portable version needs three per partition.
 */
export class PostgresBroker<C extends PostgresPoolClient = PoolClient> extends SqlBroker {
  declare readonly driver: PostgresDriver<C>;
  private isClosed = false;

  constructor(driver: PostgresDriver<C>, options: SqlBrokerOptions = {}) {
    super(driver, options);
  }

  override async publish(messages: readonly MessageEnvelope[]): Promise<void> {
    if (this.isClosed) throw new ClosedError('broker');
    if (messages.length === 0) return;
    const partitionOf = new Map<string, number>();
    for (const m of messages) {
      if (!partitionOf.has(m.channel)) partitionOf.set(m.channel, await this.partitionsOf(m.channel));
    }
    // Per (channel, partition): how many messages, and each message's place among them.
    const counts = new Map<string, { channel: string; partition: number; n: number }>();
    const slots = messages.map((m) => {
      const partition = partitionFor(m.partitionKey, partitionOf.get(m.channel)!);
      const key = `${m.channel}\u0000${partition}`;
      let group = counts.get(key);
      if (!group) counts.set(key, (group = { channel: m.channel, partition, n: 0 }));
      return { key, partition, index: group.n++ };
    });
    const groups = [...counts.values()];
    const q = this.driver.dialect.quote('partition');
    await this.driver.transaction(async (exec) => {
      // A one-page table: left to itself the planner scans all of it (every partition of every
      // channel) once or twice per publish, or reads its whole index in a merge join. Index
      // lookups read only the rows this batch moves.
      await writeLater(
        exec,
        `SELECT set_config('enable_seqscan', 'off', true), set_config('enable_hashjoin', 'off', true), ` +
          `set_config('enable_mergejoin', 'off', true)`,
      );
      // Each partition row is locked by a lookup in one global order (so publishers never
      // deadlock), then updated.
      const firsts = await exec.query<{ channel: string; partition: number; first: string | number }>(
        `WITH c AS (SELECT * FROM unnest(?::text[], ?::int[], ?::bigint[]) AS c(channel, p, n) ORDER BY channel, p), ` +
          `locked AS MATERIALIZED (SELECT l.channel, l.p, l.next_offset, c.n FROM c CROSS JOIN LATERAL ` +
          `(SELECT bp.channel, bp.${q} AS p, bp.next_offset FROM ${this.t('broker_partitions')} bp ` +
          `WHERE bp.channel = c.channel AND bp.${q} = c.p FOR UPDATE) l) ` +
          `UPDATE ${this.t('broker_partitions')} bp SET next_offset = locked.next_offset + locked.n FROM locked ` +
          `WHERE bp.channel = locked.channel AND bp.${q} = locked.p ` +
          `RETURNING bp.channel, bp.${q} AS ${q}, locked.next_offset AS first`,
        [groups.map((g) => g.channel), groups.map((g) => g.partition), groups.map((g) => g.n)],
      );
      const first = new Map(firsts.map((r) => [`${r.channel}\u0000${Number(r.partition)}`, Number(r.first)]));
      const cols = {
        channel: [] as string[],
        partition: [] as number[],
        offset: [] as number[],
        id: [] as string[],
        type: [] as string[],
        key: [] as string[],
        headers: [] as string[],
        payload: [] as string[],
        version: [] as number[],
        created: [] as number[],
      };
      messages.forEach((m, i) => {
        const slot = slots[i]!;
        cols.channel.push(m.channel);
        cols.partition.push(slot.partition);
        cols.offset.push(first.get(slot.key)! + slot.index);
        cols.id.push(m.id);
        cols.type.push(m.type);
        cols.key.push(m.partitionKey);
        cols.headers.push(JSON.stringify(m.headers));
        cols.payload.push(JSON.stringify(m.payload));
        cols.version.push(m.schemaVersion);
        cols.created.push(m.createdAt);
      });
      await exec.execute(
        `INSERT INTO ${this.t('broker_messages')} (channel, ${q}, msg_offset, message_id, message_type, partition_key, ` +
          `headers, payload, schema_version, created_at) SELECT * FROM unnest(?::text[], ?::int[], ?::bigint[], ` +
          `?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::int[], ?::bigint[])`,
        [cols.channel, cols.partition, cols.offset, cols.id, cols.type, cols.key, cols.headers, cols.payload, cols.version, cols.created],
      );
      await this.driver.notify(exec, BROKER_TOPIC);
    });
    for (const g of groups) this.wake(g.channel, g.partition);
  }

  override async close(): Promise<void> {
    this.isClosed = true;
    await super.close();
    await this.driver.close();
  }
}

/**
 * Opens the in-database broker on PostgreSQL: partitioned channels, consumer groups with
 * partition leases, woken across processes by LISTEN/NOTIFY.
 */
export async function openPostgresBroker<C extends PostgresPoolClient = PoolClient>(
  options: PostgresBrokerOptions<C>,
): Promise<PostgresBroker<C>> {
  const driver = await openPostgresDriver(options, 'openPostgresBroker');
  return migrateOrClose(new PostgresBroker<C>(driver, options), () => driver.close());
}
