import type { Migration } from './migrations.js';

/** Tables of the in-database broker (embedded mode, or a team with only PostgreSQL). */
export const brokerMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'channels, partitions, messages, offsets, members, leases',
    up: (d) => {
      const t = d.types;
      const q = d.quote;
      return [
        `CREATE TABLE ${d.table('broker_channels')} (channel ${t.key} NOT NULL PRIMARY KEY, partitions ${t.int} NOT NULL)`,
        `CREATE TABLE ${d.table('broker_partitions')} (channel ${t.key} NOT NULL, ${q('partition')} ${t.int} NOT NULL, ` +
          `next_offset ${t.bigint} NOT NULL, PRIMARY KEY (channel, ${q('partition')}))`,
        `CREATE TABLE ${d.table('broker_messages')} (channel ${t.key} NOT NULL, ${q('partition')} ${t.int} NOT NULL, ` +
          `msg_offset ${t.bigint} NOT NULL, message_id ${t.key} NOT NULL, message_type ${t.key} NOT NULL, ` +
          `partition_key ${t.key} NOT NULL, headers ${t.text} NOT NULL, payload ${t.text} NOT NULL, ` +
          `schema_version ${t.int} NOT NULL, created_at ${t.bigint} NOT NULL, ` +
          `PRIMARY KEY (channel, ${q('partition')}, msg_offset))`,
        d.createIndex('concord_broker_messages_created', d.table('broker_messages'), 'created_at'),
        `CREATE TABLE ${d.table('broker_offsets')} (group_name ${t.key} NOT NULL, channel ${t.key} NOT NULL, ` +
          `${q('partition')} ${t.int} NOT NULL, committed ${t.bigint} NOT NULL, PRIMARY KEY (group_name, channel, ${q('partition')}))`,
        `CREATE TABLE ${d.table('broker_members')} (group_name ${t.key} NOT NULL, member_id ${t.key} NOT NULL, ` +
          `heartbeat_at ${t.bigint} NOT NULL, PRIMARY KEY (group_name, member_id))`,
        `CREATE TABLE ${d.table('broker_leases')} (group_name ${t.key} NOT NULL, channel ${t.key} NOT NULL, ` +
          `${q('partition')} ${t.int} NOT NULL, owner ${t.key} NOT NULL, expires_at ${t.bigint} NOT NULL, ` +
          `PRIMARY KEY (group_name, channel, ${q('partition')}))`,
      ];
    },
  },
  {
    version: 2,
    name: 'group epochs for coordinated rebuilds',
    up: (d) => {
      const t = d.types;
      return [
        // One row per group that was ever rebuilt: the epoch fences offset commits of workers
        // started before a rewind; `rebuilding_by` pauses every member while a rebuild runs.
        `CREATE TABLE ${d.table('broker_group_epochs')} (group_name ${t.key} NOT NULL PRIMARY KEY, epoch ${t.bigint} NOT NULL, ` +
          `rebuilding_by ${t.key} NULL, rebuilding_until ${t.bigint} NULL)`,
        // The epoch at which a member has stopped all its workers for a rebuild.
        `ALTER TABLE ${d.table('broker_members')} ADD paused_epoch ${t.bigint} NULL`,
      ];
    },
  },
];
