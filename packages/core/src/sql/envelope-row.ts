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

export function envelopeValues(e: MessageEnvelope): unknown[] {
  return [
    e.id,
    e.channel,
    e.type,
    e.partitionKey,
    JSON.stringify(e.headers),
    JSON.stringify(e.payload),
    e.schemaVersion,
    e.createdAt,
  ];
}

export function envelopeFromRow(row: EnvelopeRow): MessageEnvelope {
  return {
    id: row.message_id,
    type: row.message_type,
    channel: row.channel,
    partitionKey: row.partition_key,
    headers: JSON.parse(row.headers) as Record<string, string>,
    schemaVersion: Number(row.schema_version),
    payload: JSON.parse(row.payload) as unknown,
    createdAt: Number(row.created_at),
  };
}

/** `(?, ?, ...), (?, ?, ...)` for a multi-row insert. */
export function valuesPlaceholders(columns: number, rows: number): string {
  const one = `(${new Array(columns).fill('?').join(', ')})`;
  return new Array(rows).fill(one).join(', ');
}
