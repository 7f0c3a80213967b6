import type { SqlDialect } from '../sql/sql-driver.js';
import type { Migration } from '../sql/migrations.js';

/**
 * Saga instances, their history and the participant barrier. Version 2 of the `store`
 * component created them before sagas had a component of their own, and databases out there
 * record that version, so the statements stay part of it (see docs/decisions/031).
 */
export function sagaTables(d: SqlDialect): string[] {
  const t = d.types;
  return [
    `CREATE TABLE ${d.table('saga_instances')} (saga_id ${t.key} NOT NULL PRIMARY KEY, saga_type ${t.key} NOT NULL, ` +
      `data ${t.text} NOT NULL, status ${t.key} NOT NULL, direction ${t.key} NOT NULL, current_step ${t.int} NOT NULL, ` +
      `step_attempts ${t.int} NOT NULL, waiting_action ${t.key} NULL, waiting_attempt ${t.int} NULL, ` +
      `wake_at ${t.bigint} NULL, failure_reason ${t.key} NULL, last_error ${t.text} NULL, ` +
      `version ${t.int} NOT NULL, created_at ${t.bigint} NOT NULL, updated_at ${t.bigint} NOT NULL)`,
    d.createIndex('concord_saga_instances_wake', d.table('saga_instances'), 'wake_at', 'wake_at IS NOT NULL'),
    d.createIndex('concord_saga_instances_status', d.table('saga_instances'), 'status, updated_at'),
    `CREATE TABLE ${d.table('saga_history')} (id ${t.autoId}, saga_id ${t.key} NOT NULL, at ${t.bigint} NOT NULL, ` +
      `step ${t.key} NULL, event ${t.key} NOT NULL, detail ${t.text} NOT NULL)`,
    d.createIndex('concord_saga_history_saga', d.table('saga_history'), 'saga_id, id'),
    `CREATE TABLE ${d.table('saga_barrier')} (saga_id ${t.key} NOT NULL, step ${t.key} NOT NULL, action ${t.key} NOT NULL, ` +
      `status ${t.key} NOT NULL, reply_type ${t.key} NULL, reply_payload ${t.text} NULL, created_at ${t.bigint} NOT NULL, ` +
      `PRIMARY KEY (saga_id, step, action))`,
    d.createIndex('concord_saga_barrier_created', d.table('saga_barrier'), 'created_at'),
  ];
}

/**
 * The saga module's own migration component. Version 1 moves nothing: it adopts the tables
 * `store#2` created, so every later change to them ships here (`saga#2`, ...) and never as a
 * new store version. Re-creating them here instead would need `CREATE INDEX IF NOT EXISTS`,
 * which MySQL lacks, to leave existing databases intact.
 */
export const sagaMigrations: readonly Migration[] = [
  { version: 1, name: 'adopt saga instances, saga history, participant barrier (created by store#2)', up: () => [] },
];
