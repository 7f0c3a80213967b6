import type { StandardSchemaV1 } from '@standard-schema/spec';
import { newId } from '../ids.js';
import { MessageHeader, type MessageEnvelope } from '../message/envelope.js';
import { defineEvent } from '../message/message-definition.js';
import { SAGA_ATTEMPT_HEADER } from '../saga/saga-messages.js';

export interface CounterPayload {
  readonly key: string;
  readonly seq: number;
  readonly fail?: boolean;
}

/** A dependency-free Standard Schema, so conformance suites need no validation library. */
export const counterSchema: StandardSchemaV1<CounterPayload> = {
  '~standard': {
    version: 1,
    vendor: 'concord-testing',
    validate(value) {
      const v = value as Partial<CounterPayload> | null;
      if (typeof v !== 'object' || v === null) return { issues: [{ message: 'expected an object' }] };
      if (typeof v.key !== 'string' || v.key.length === 0) return { issues: [{ message: 'expected a string', path: ['key'] }] };
      if (typeof v.seq !== 'number' || !Number.isInteger(v.seq)) {
        return { issues: [{ message: 'expected an integer', path: ['seq'] }] };
      }
      return { value: v as CounterPayload };
    },
  },
};

/** A test event on its own channel: `seq` numbers per `key` let suites check order. */
export function counterEvent(channel: string) {
  return defineEvent('test.Counted', { channel, schema: counterSchema, partitionKey: (p) => p.key });
}

/**
 * A saga command as an orchestrator would send it, for tests that deliver one straight to a
 * participant's channel (repeats, resends, a compensation before its action). A new id each
 * call: spread the result to send the very same message twice.
 */
export function sagaCommandEnvelope(command: {
  readonly sagaId: string;
  readonly step: string;
  readonly action: 'invoke' | 'compensate';
  readonly type: string;
  readonly channel: string;
  readonly payload: unknown;
  readonly replyChannel?: string;
  readonly attempt?: number;
}): MessageEnvelope {
  return {
    id: newId(),
    type: command.type,
    channel: command.channel,
    partitionKey: command.sagaId,
    headers: {
      [MessageHeader.sagaId]: command.sagaId,
      [MessageHeader.sagaStep]: command.step,
      [MessageHeader.sagaAction]: command.action,
      ...(command.replyChannel ? { [MessageHeader.replyChannel]: command.replyChannel } : {}),
      ...(command.attempt ? { [SAGA_ATTEMPT_HEADER]: String(command.attempt) } : {}),
    },
    schemaVersion: 1,
    payload: command.payload,
    createdAt: Date.now(),
  };
}
