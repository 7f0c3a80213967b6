import type { Migration } from '../sql/migrations.js';

/**
 * Durable timers, as their own migration component (`timers`) so their versions never
 * collide with the store's or another module's.
 */
export const timerMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'durable timers with leases and fencing tokens',
    up: (d) => {
      const t = d.types;
      return [
        `CREATE TABLE ${d.table('timers')} (timer_id ${t.key} NOT NULL PRIMARY KEY, kind ${t.key} NOT NULL, ` +
          `payload ${t.text} NOT NULL, due_at ${t.bigint} NOT NULL, status ${t.key} NOT NULL, owner ${t.key} NULL, ` +
          `lease_until ${t.bigint} NULL, fence ${t.bigint} NOT NULL, attempts ${t.int} NOT NULL, ` +
          `last_error ${t.text} NULL, created_at ${t.bigint} NOT NULL, fired_at ${t.bigint} NULL)`,
        d.createIndex('concord_timers_due', d.table('timers'), 'status, due_at'),
      ];
    },
  },
];
