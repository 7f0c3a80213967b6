import type { MessageEnvelope } from '@concord/core';
import { RedisUnexpectedReplyError } from './redis-errors.js';

/**
 * A stream entry's fields. The channel is not stored: the stream key already says it.
 * Headers and payload are JSON, numbers are decimal strings, so the envelope round-trips.
 */
export function envelopeFields(e: MessageEnvelope): string[] {
  return [
    'id',
    e.id,
    'type',
    e.type,
    'key',
    e.partitionKey,
    'headers',
    JSON.stringify(e.headers),
    'v',
    String(e.schemaVersion),
    'payload',
    JSON.stringify(e.payload) ?? 'null',
    'at',
    String(e.createdAt),
  ];
}

export function envelopeFromFields(channel: string, fields: readonly unknown[]): MessageEnvelope {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[String(fields[i])] = String(fields[i + 1]);
  const { id, type, key, headers, v, payload, at } = f;
  if (
    id === undefined ||
    type === undefined ||
    key === undefined ||
    headers === undefined ||
    v === undefined ||
    payload === undefined ||
    at === undefined
  ) {
    throw new RedisUnexpectedReplyError('a stream entry (not a Concord envelope)', fields);
  }
  return {
    id,
    type,
    channel,
    partitionKey: key,
    headers: JSON.parse(headers) as Record<string, string>,
    schemaVersion: Number(v),
    payload: JSON.parse(payload) as unknown,
    createdAt: Number(at),
  };
}
