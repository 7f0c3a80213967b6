import type { Migration } from '../sql/migrations.js';

/**
 * Tables of the isolation countermeasures (semantic locks, their wait queue, the version file).
 * A component of its own, so its versions never collide with the store's.
 */
export const isolationMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'semantic locks, lock wait queue, version file',
    up: (d) => {
      const t = d.types;
      return [
        `CREATE TABLE ${d.table('semantic_locks')} (resource ${t.key} NOT NULL PRIMARY KEY, saga_id ${t.key} NOT NULL, ` +
          `saga_started_at ${t.bigint} NOT NULL, locked_at ${t.bigint} NOT NULL)`,
        d.createIndex('concord_semantic_locks_saga', d.table('semantic_locks'), 'saga_id'),
        `CREATE TABLE ${d.table('lock_waits')} (id ${t.autoId}, resource ${t.key} NOT NULL, saga_id ${t.key} NOT NULL, ` +
          `saga_started_at ${t.bigint} NOT NULL, step ${t.key} NOT NULL, action ${t.key} NOT NULL, ` +
          `barrier_key ${t.key} NOT NULL, envelope ${t.text} NOT NULL, created_at ${t.bigint} NOT NULL)`,
        d.createIndex('concord_lock_waits_resource', d.table('lock_waits'), 'resource, id'),
        d.createIndex('concord_lock_waits_saga', d.table('lock_waits'), 'saga_id'),
        `CREATE TABLE ${d.table('version_file')} (aggregate_id ${t.key} NOT NULL, operation_id ${t.key} NOT NULL, ` +
          `operation ${t.key} NOT NULL, payload ${t.text} NOT NULL, recorded_at ${t.bigint} NOT NULL, ` +
          `PRIMARY KEY (aggregate_id, operation_id))`,
      ];
    },
  },
];

/** Branch state of parallel step groups and participants' promised (deferred) replies. */
export const sagaExtensionMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'saga step group branches, deferred replies',
    up: (d) => {
      const t = d.types;
      return [
        `CREATE TABLE ${d.table('saga_branches')} (saga_id ${t.key} NOT NULL, step ${t.key} NOT NULL, ` +
          `branch ${t.key} NOT NULL, status ${t.key} NOT NULL, position ${t.int} NOT NULL, updated_at ${t.bigint} NOT NULL, ` +
          `PRIMARY KEY (saga_id, step, branch))`,
        `CREATE TABLE ${d.table('deferred_replies')} (deferred_id ${t.key} NOT NULL PRIMARY KEY, saga_id ${t.key} NOT NULL, ` +
          `step ${t.key} NOT NULL, action ${t.key} NOT NULL, attempt ${t.int} NOT NULL, command_type ${t.key} NOT NULL, ` +
          `reply_channel ${t.key} NOT NULL, created_at ${t.bigint} NOT NULL, answered_at ${t.bigint} NULL)`,
      ];
    },
  },
];
