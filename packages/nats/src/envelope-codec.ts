import type { MessageEnvelope } from '@concord/core';

/** Marks the body format so a later version can change it and still read old messages. */
export const ENVELOPE_FORMAT_HEADER = 'Concord-Envelope';
export const ENVELOPE_FORMAT = '1';
export const MESSAGE_TYPE_HEADER = 'Concord-Type';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The whole envelope travels as the JSON body. Headers stay inside it rather than as NATS
 * headers because NATS header values cannot hold every string (CR/LF, edge whitespace) and
 * names like `Nats-*` mean something to the server; the body round-trips anything exactly.
 * `Nats-Msg-Id` (server-side dedup) and `Concord-Type` are set as NATS headers for tooling.
 */
export function encodeEnvelope(envelope: MessageEnvelope): Uint8Array {
  return encoder.encode(
    JSON.stringify({
      id: envelope.id,
      type: envelope.type,
      channel: envelope.channel,
      partitionKey: envelope.partitionKey,
      headers: envelope.headers,
      schemaVersion: envelope.schemaVersion,
      payload: envelope.payload,
      createdAt: envelope.createdAt,
    }),
  );
}

/** Returns the envelope, or a reason why the bytes are not one of ours. */
export function decodeEnvelope(data: Uint8Array): MessageEnvelope | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data));
  } catch (error) {
    return `body is not JSON: ${(error as Error).message}`;
  }
  const e = parsed as Partial<Record<keyof MessageEnvelope, unknown>> | null;
  if (typeof e !== 'object' || e === null) return 'body is not an object';
  for (const field of ['id', 'type', 'channel', 'partitionKey'] as const) {
    if (typeof e[field] !== 'string') return `${field} is not a string`;
  }
  if (typeof e.schemaVersion !== 'number' || typeof e.createdAt !== 'number') return 'schemaVersion or createdAt is not a number';
  if (typeof e.headers !== 'object' || e.headers === null || Array.isArray(e.headers)) return 'headers is not an object';
  for (const value of Object.values(e.headers)) if (typeof value !== 'string') return 'a header value is not a string';
  return {
    id: e.id as string,
    type: e.type as string,
    channel: e.channel as string,
    partitionKey: e.partitionKey as string,
    headers: e.headers as Record<string, string>,
    schemaVersion: e.schemaVersion,
    payload: e.payload,
    createdAt: e.createdAt,
  };
}
