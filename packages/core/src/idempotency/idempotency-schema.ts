import type { SqlDialect } from '../sql/sql-driver.js';

/** Server-side idempotency keys: what a caller's key was first used for, until it expires. */
export function idempotencyKeyTables(d: SqlDialect): string[] {
  const t = d.types;
  return [
    `CREATE TABLE ${d.table('idempotency_keys')} (scope ${t.key} NOT NULL, idem_key ${t.key} NOT NULL, ` +
      `fingerprint ${t.key} NOT NULL, response ${t.text} NULL, created_at ${t.bigint} NOT NULL, ` +
      `expires_at ${t.bigint} NOT NULL, PRIMARY KEY (scope, idem_key))`,
    d.createIndex('concord_idempotency_keys_expiry', d.table('idempotency_keys'), 'expires_at'),
  ];
}
