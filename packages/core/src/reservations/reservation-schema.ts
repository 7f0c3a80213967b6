import type { Migration } from '../sql/migrations.js';

/** TCC reservations: pools (counts), items of item pools, and one row per reservation id. */
export const reservationMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'reservation pools, items and reservations',
    up: (d) => {
      const t = d.types;
      return [
        `CREATE TABLE ${d.table('reservation_pools')} (pool ${t.key} NOT NULL PRIMARY KEY, kind ${t.key} NOT NULL, ` +
          `stock ${t.bigint} NOT NULL, available ${t.bigint} NOT NULL, reserved ${t.bigint} NOT NULL, ` +
          `confirmed ${t.bigint} NOT NULL, updated_at ${t.bigint} NOT NULL)`,
        `CREATE TABLE ${d.table('reservation_items')} (pool ${t.key} NOT NULL, item_id ${t.key} NOT NULL, ` +
          `state ${t.key} NOT NULL, reservation_id ${t.key} NULL, PRIMARY KEY (pool, item_id))`,
        d.createIndex('concord_reservation_items_state', d.table('reservation_items'), 'pool, state, item_id'),
        `CREATE TABLE ${d.table('reservations')} (reservation_id ${t.key} NOT NULL PRIMARY KEY, pool ${t.key} NULL, ` +
          `item_id ${t.key} NULL, quantity ${t.bigint} NOT NULL, state ${t.key} NOT NULL, ref ${t.key} NULL, ` +
          `expires_at ${t.bigint} NULL, created_at ${t.bigint} NOT NULL, updated_at ${t.bigint} NOT NULL)`,
        d.createIndex('concord_reservations_state', d.table('reservations'), 'state, expires_at'),
      ];
    },
  },
];
