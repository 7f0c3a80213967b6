import type { SqlDialect } from '../sql/sql-driver.js';

/**
 * One row per remote object the service asked for (the seed's `key, state, type` table, plus
 * what retrying and resuming need), and its history for people and audits.
 */
export function remoteCallTables(d: SqlDialect): string[] {
  const t = d.types;
  return [
    `CREATE TABLE ${d.table('remote_calls')} (call_type ${t.key} NOT NULL, call_key ${t.key} NOT NULL, ` +
      `state ${t.key} NOT NULL, payload ${t.text} NOT NULL, remote_id ${t.key} NULL, result ${t.text} NULL, ` +
      `attempts ${t.int} NOT NULL, next_attempt_at ${t.bigint} NULL, parked_at ${t.bigint} NULL, last_error ${t.text} NULL, ` +
      `version ${t.int} NOT NULL, requested_at ${t.bigint} NOT NULL, created_at ${t.bigint} NOT NULL, updated_at ${t.bigint} NOT NULL, ` +
      `PRIMARY KEY (call_type, call_key))`,
    d.createIndex(
      'concord_remote_calls_due',
      d.table('remote_calls'),
      'next_attempt_at',
      'next_attempt_at IS NOT NULL',
    ),
    d.createIndex('concord_remote_calls_state', d.table('remote_calls'), 'call_type, state, updated_at'),
    `CREATE TABLE ${d.table('remote_call_history')} (id ${t.autoId}, call_type ${t.key} NOT NULL, call_key ${t.key} NOT NULL, ` +
      `at ${t.bigint} NOT NULL, event ${t.key} NOT NULL, state ${t.key} NOT NULL, actor ${t.key} NULL, detail ${t.text} NOT NULL)`,
    d.createIndex(
      'concord_remote_call_history_key',
      d.table('remote_call_history'),
      'call_type, call_key, id',
    ),
  ];
}
