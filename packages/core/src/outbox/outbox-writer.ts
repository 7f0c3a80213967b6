import { InvalidArgumentError } from '../errors.js';
import { newId } from '../ids.js';
import { MessageHeader, type MessageEnvelope } from '../message/envelope.js';
import type { MessageDefinition, PayloadInputOf } from '../message/message-definition.js';
import { validatePayload } from '../schema.js';

export interface SendOptions {
  /** Overrides the definition's partition key function. */
  readonly partitionKey?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Caller-assigned id; defaults to a new UUIDv7. */
  readonly id?: string;
}

/** Writes messages into the outbox of the current transaction. */
export interface OutboxWriter {
  send<D extends MessageDefinition>(
    definition: D,
    payload: PayloadInputOf<D>,
    options?: SendOptions,
  ): Promise<MessageEnvelope<PayloadInputOf<D>>>;
  /** Writes an already built envelope (framework use: replies, replays). */
  sendEnvelope(envelope: MessageEnvelope): Promise<void>;
}

/**
 * Builds the envelope for `send`: validates the payload (a bad one never reaches the outbox),
 * picks the partition key, and carries correlation and trace headers from the message being
 * handled, so a chain of messages can be followed across services.
 */
export async function buildEnvelope<D extends MessageDefinition>(
  definition: D,
  payload: PayloadInputOf<D>,
  options: SendOptions | undefined,
  causedBy: MessageEnvelope | undefined,
  now: number,
  /** The active trace context (from Instrumentation.traceHeaders), which wins over the cause's. */
  trace?: Readonly<Record<string, string>>,
): Promise<MessageEnvelope<PayloadInputOf<D>>> {
  const parsed = await validatePayload(definition.schema, payload, definition.type, 'send');
  const partitionKey = options?.partitionKey ?? definition.partitionKey?.(parsed);
  if (typeof partitionKey !== 'string' || partitionKey.length === 0) {
    throw new InvalidArgumentError(
      `message ${definition.type}: no partition key (give options.partitionKey or a partitionKey function in its definition)`,
    );
  }
  const id = options?.id ?? newId();
  const headers: Record<string, string> = {};
  if (causedBy) {
    const h = causedBy.headers;
    headers[MessageHeader.correlationId] = h[MessageHeader.correlationId] ?? causedBy.id;
    headers[MessageHeader.causationId] = causedBy.id;
    for (const name of [MessageHeader.traceparent, MessageHeader.tracestate]) {
      const value = h[name];
      if (value !== undefined) headers[name] = value;
    }
  } else {
    headers[MessageHeader.correlationId] = id;
  }
  if (trace) Object.assign(headers, trace);
  if (options?.headers) Object.assign(headers, options.headers);
  return {
    id,
    type: definition.type,
    channel: definition.channel,
    partitionKey,
    headers,
    schemaVersion: definition.schemaVersion,
    // The input is stored, not the parsed output, so the receiver's schema sees what the sender's saw.
    payload,
    createdAt: now,
  };
}
