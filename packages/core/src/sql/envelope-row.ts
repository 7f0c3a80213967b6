import { UndecodableMessageError } from '../errors.js';
import type { MessageEnvelope } from '../message/envelope.js';

/** The columns every Concord table that holds a message shares. */
export interface EnvelopeRow {
  message_id: string;
  channel: string;
  message_type: string;
  partition_key: string;
  headers: string;
  payload: string;
  schema_version: number | string;
  created_at: number | string;
}

export const ENVELOPE_COLUMNS = [
  'message_id',
  'channel',
  'message_type',
  'partition_key',
  'headers',
  'payload',
  'schema_version',
  'created_at',
] as const;

/**
 * The JSON text an envelope was read from, kept (invisibly) so a relay moving rows from the
 * outbox into a SQL broker writes the same text back without serializing it again.
 */
const RAW_JSON = Symbol('concord.rawJson');
type WithRaw = MessageEnvelope & { [RAW_JSON]?: { headers: string; payload: string } };

export function envelopeValues(e: MessageEnvelope): unknown[] {
  const raw = (e as WithRaw)[RAW_JSON];
  return [
    e.id,
    e.channel,
    e.type,
    e.partitionKey,
    raw?.headers ?? JSON.stringify(e.headers),
    raw?.payload ?? JSON.stringify(e.payload),
    e.schemaVersion,
    e.createdAt,
  ];
}

export function envelopeFromRow(row: EnvelopeRow): MessageEnvelope {
  const envelope: MessageEnvelope = {
    id: row.message_id,
    type: row.message_type,
    channel: row.channel,
    partitionKey: row.partition_key,
    headers: JSON.parse(row.headers) as Record<string, string>,
    schemaVersion: Number(row.schema_version),
    payload: JSON.parse(row.payload) as unknown,
    createdAt: Number(row.created_at),
  };
  // Not enumerable: equality checks and spreads see a plain envelope.
  Object.defineProperty(envelope, RAW_JSON, { value: { headers: row.headers, payload: row.payload } });
  return envelope;
}

/**
 * `envelopeFromRow`, checked: headers must be a JSON object of strings, the payload JSON, the
 * schema version and time integers. Throws UndecodableMessageError saying what is wrong.
 */
export function decodeEnvelopeRow(row: EnvelopeRow, where: string): MessageEnvelope {
  let envelope: MessageEnvelope;
  try {
    envelope = envelopeFromRow(row);
  } catch (cause) {
    throw new UndecodableMessageError(`${where} (message ${row.message_id}): ${(cause as Error).message}`, { cause });
  }
  const h = envelope.headers as unknown;
  if (typeof h !== 'object' || h === null || Array.isArray(h) || Object.values(h).some((v) => typeof v !== 'string')) {
    throw new UndecodableMessageError(`${where} (message ${row.message_id}): headers are not an object of strings`);
  }
  if (!Number.isInteger(envelope.schemaVersion) || !Number.isFinite(envelope.createdAt)) {
    throw new UndecodableMessageError(`${where} (message ${row.message_id}): schema_version or created_at is not a number`);
  }
  return envelope;
}

/** `(?, ?, ...), (?, ?, ...)` for a multi-row insert. */
export function valuesPlaceholders(columns: number, rows: number): string {
  const one = `(${new Array(columns).fill('?').join(', ')})`;
  return new Array(rows).fill(one).join(', ');
}
