import type { MessageEnvelope } from '@concord/core';
import type { AmqpPublishOptions } from './amqp-client.js';
import { BadEnvelopeError } from './rabbit-errors.js';

export const ENVELOPE_CONTENT_TYPE = 'application/vnd.concord.envelope+json';

/**
 * The whole envelope travels as the JSON body, so it comes back exactly as it was sent
 * (AMQP header tables would add RabbitMQ's own `x-` headers and retype numbers). The AMQP
 * properties repeat the id and type for tools such as the management UI.
 */
export function encodeEnvelope(envelope: MessageEnvelope): { body: Buffer; properties: AmqpPublishOptions } {
  const { id, type, channel, partitionKey, headers, schemaVersion, payload, createdAt } = envelope;
  const body = Buffer.from(JSON.stringify({ id, type, channel, partitionKey, headers, schemaVersion, payload, createdAt }));
  return {
    body,
    properties: {
      persistent: true,
      mandatory: true,
      messageId: id,
      type,
      timestamp: Math.floor(createdAt / 1000),
      contentType: ENVELOPE_CONTENT_TYPE,
      appId: 'concord',
    },
  };
}

export function decodeEnvelope(body: Buffer, where: string): MessageEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new BadEnvelopeError(where, `body is not JSON (${(error as Error).message})`);
  }
  const e = value as Partial<Record<keyof MessageEnvelope, unknown>> | null;
  if (typeof e !== 'object' || e === null) throw new BadEnvelopeError(where, 'body is not an object');
  for (const field of ['id', 'type', 'channel', 'partitionKey'] as const) {
    if (typeof e[field] !== 'string') throw new BadEnvelopeError(where, `${field} is not a string`);
  }
  if (typeof e.schemaVersion !== 'number' || typeof e.createdAt !== 'number') {
    throw new BadEnvelopeError(where, 'schemaVersion and createdAt must be numbers');
  }
  const headers = e.headers;
  if (typeof headers !== 'object' || headers === null || Object.values(headers).some((v) => typeof v !== 'string')) {
    throw new BadEnvelopeError(where, 'headers must be an object of strings');
  }
  return e as unknown as MessageEnvelope;
}
