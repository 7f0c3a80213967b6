import { idempotencyKeyTables } from '../idempotency/idempotency-schema.js';
import { sagaTables } from '../saga/saga-schema.js';
import { remoteCallTables } from '../remote-call/remote-call-schema.js';
import type { Migration } from './migrations.js';

/** Schema of a service's own Concord tables. Each change ships as a new version, never an edit. */
export const storeMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'outbox, inbox, attempts, dead letters',
    up: (d) => {
      const t = d.types;
      return [
        `CREATE TABLE ${d.table('outbox')} (position ${t.autoId}, message_id ${t.key} NOT NULL, ` +
          `channel ${t.key} NOT NULL, message_type ${t.key} NOT NULL, partition_key ${t.key} NOT NULL, ` +
          `shard ${t.int} NOT NULL, headers ${t.text} NOT NULL, payload ${t.text} NOT NULL, ` +
          `schema_version ${t.int} NOT NULL, created_at ${t.bigint} NOT NULL, sent_at ${t.bigint} NULL)`,
        d.createIndex('concord_outbox_unsent', d.table('outbox'), 'sent_at, position', 'sent_at IS NULL'),
        `CREATE TABLE ${d.table('inbox')} (consumer ${t.key} NOT NULL, message_id ${t.key} NOT NULL, ` +
          `processed_at ${t.bigint} NOT NULL, PRIMARY KEY (consumer, message_id))`,
        d.createIndex('concord_inbox_processed', d.table('inbox'), 'processed_at'),
        `CREATE TABLE ${d.table('attempts')} (consumer ${t.key} NOT NULL, message_id ${t.key} NOT NULL, ` +
          `attempts ${t.int} NOT NULL, last_error ${t.text} NOT NULL, updated_at ${t.bigint} NOT NULL, ` +
          `PRIMARY KEY (consumer, message_id))`,
        `CREATE TABLE ${d.table('dead_letters')} (id ${t.autoId}, consumer ${t.key} NOT NULL, ` +
          `message_id ${t.key} NOT NULL, channel ${t.key} NOT NULL, message_type ${t.key} NOT NULL, ` +
          `partition_key ${t.key} NOT NULL, headers ${t.text} NOT NULL, payload ${t.text} NOT NULL, ` +
          `schema_version ${t.int} NOT NULL, created_at ${t.bigint} NOT NULL, error ${t.text} NOT NULL, ` +
          `stack ${t.text} NULL, attempts ${t.int} NOT NULL, failed_at ${t.bigint} NOT NULL, ` +
          `replayed_at ${t.bigint} NULL)`,
        d.createIndex('concord_dead_letters_consumer', d.table('dead_letters'), 'consumer, id'),
      ];
    },
  },
  {
    version: 2,
    name: 'saga instances, saga history, participant barrier',
    up: (d) => sagaTables(d),
  },
  {
    version: 3,
    name: 'remote call intents, idempotency keys',
    up: (d) => [...remoteCallTables(d), ...idempotencyKeyTables(d)],
  },
  {
    version: 4,
    name: 'finished sagas at participants, relay-parked outbox rows',
    up: (d) => {
      const t = d.types;
      return [
        // A participant keeps a saga's barrier rows until the orchestrator says the saga is
        // finished (plus a retention): a compensation may come any time before that.
        `CREATE TABLE ${d.table('saga_finished')} (saga_id ${t.key} NOT NULL PRIMARY KEY, status ${t.key} NOT NULL, ` +
          `finished_at ${t.bigint} NOT NULL)`,
        d.createIndex('concord_saga_finished_at', d.table('saga_finished'), 'finished_at'),
        // Outbox rows the relay could not publish (the broker refuses them, or they cannot be
        // decoded), kept as they were, raw, with the reason; replayed into the outbox or discarded.
        `CREATE TABLE ${d.table('outbox_parked')} (id ${t.autoId}, outbox_position ${t.bigint} NOT NULL, ` +
          `message_id ${t.key} NOT NULL, channel ${t.key} NOT NULL, message_type ${t.key} NOT NULL, ` +
          `partition_key ${t.key} NOT NULL, shard ${t.int} NOT NULL, headers ${t.text} NOT NULL, payload ${t.text} NOT NULL, ` +
          `schema_version ${t.int} NOT NULL, created_at ${t.bigint} NOT NULL, error ${t.text} NOT NULL, ` +
          `parked_at ${t.bigint} NOT NULL, resolved_at ${t.bigint} NULL, resolution ${t.key} NULL)`,
        d.createIndex('concord_outbox_parked_open', d.table('outbox_parked'), 'resolved_at, id'),
      ];
    },
  },
  {
    version: 5,
    name: 'unsent outbox rows indexed by position alone where indexes can be partial',
    // The partial index of version 1 led with sent_at, always NULL in it: PostgreSQL does not
    // use an implied `sent_at IS NULL` as an index condition, so a read "from position N"
    // walked the whole index, sent rows not yet vacuumed included, and sorted what it found.
    // Keyed by position alone, the read starts at N and comes out in order. MySQL has no
    // partial indexes and keeps (sent_at, position), where sent_at IS NULL is a real prefix.
    up: (d) =>
      d.name === 'mysql'
        ? []
        : [
            `DROP INDEX IF EXISTS ${d.name === 'postgres' ? d.table('concord_outbox_unsent') : 'concord_outbox_unsent'}`,
            d.createIndex('concord_outbox_unsent', d.table('outbox'), 'position', 'sent_at IS NULL'),
          ],
  },
];

/** Number of outbox shards: relays on servers with SKIP LOCKED lease shards to keep per-key order. */
export const OUTBOX_SHARDS = 32;
