import { idempotencyKeyTables } from '../idempotency/idempotency-schema.js';
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
    up: (d) => {
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
    },
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
];

/** Number of outbox shards: relays on servers with SKIP LOCKED lease shards to keep per-key order. */
export const OUTBOX_SHARDS = 32;
