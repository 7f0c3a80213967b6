import type { StandardSchemaV1 } from '@standard-schema/spec';
import { defineMessage, type MessageDefinition } from '../message/message-definition.js';
import type { SagaAction } from './saga-instance.js';

/** The reply every participant sends to an orchestrator's reply channel. */
export interface SagaReplyPayload {
  readonly sagaId: string;
  readonly step: string;
  readonly action: SagaAction;
  /** Barrier generation the command carried; stale generations are ignored. */
  readonly attempt: number;
  /** The declared reply's name, e.g. `CreditReserved`. */
  readonly reply: string;
  readonly body: unknown;
  /** The version of the reply's schema `body` was written with (see reply-versions.ts); absent means 1. */
  readonly bodyVersion?: number;
}

export const SAGA_REPLY_TYPE = 'concord.SagaReply';
/** Reply of a compensation that arrived before its action: nothing to undo. */
export const NULL_COMPENSATION_REPLY = 'concord.NullCompensation';

const sagaReplySchema: StandardSchemaV1<SagaReplyPayload> = {
  '~standard': {
    version: 1,
    vendor: 'concord',
    validate(value) {
      const v = value as Partial<SagaReplyPayload> | null;
      const bad = (path: string, message: string) => ({ issues: [{ path: [path], message }] });
      if (typeof v !== 'object' || v === null) return { issues: [{ message: 'expected an object' }] };
      if (typeof v.sagaId !== 'string') return bad('sagaId', 'expected a string');
      if (typeof v.step !== 'string') return bad('step', 'expected a string');
      if (v.action !== 'invoke' && v.action !== 'compensate') return bad('action', 'expected invoke or compensate');
      if (typeof v.attempt !== 'number') return bad('attempt', 'expected a number');
      if (typeof v.reply !== 'string') return bad('reply', 'expected a string');
      if (v.bodyVersion !== undefined && typeof v.bodyVersion !== 'number') return bad('bodyVersion', 'expected a number');
      return { value: v as SagaReplyPayload };
    },
  },
};

const definitions = new Map<string, MessageDefinition<typeof SAGA_REPLY_TYPE, typeof sagaReplySchema>>();

export function sagaReplyMessage(channel: string): MessageDefinition<typeof SAGA_REPLY_TYPE, typeof sagaReplySchema> {
  let def = definitions.get(channel);
  if (!def) {
    def = defineMessage(SAGA_REPLY_TYPE, { channel, schema: sagaReplySchema, partitionKey: (p) => p.sagaId });
    definitions.set(channel, def);
  }
  return def;
}

/** Extra header: which barrier generation of the step a command belongs to. */
export const SAGA_ATTEMPT_HEADER = 'concord-saga-attempt';

/** The barrier's action key: the first generation is the plain action. */
export function barrierAction(action: SagaAction, attempt: number): string {
  return attempt > 1 ? `${action}#${attempt}` : action;
}

/** Reply of a command whose resource another saga holds (fail-fast semantic lock): the saga fails with RESOURCE_LOCKED. */
export const RESOURCE_LOCKED_REPLY = 'concord.ResourceLocked';
/** Reply sent to the saga chosen to break a waits-for cycle: the saga fails with DEADLOCK. */
export const DEADLOCK_REPLY = 'concord.Deadlock';

export interface SagaEndedPayload {
  readonly sagaId: string;
  readonly status: string;
}

const sagaEndedSchema: StandardSchemaV1<SagaEndedPayload> = {
  '~standard': {
    version: 1,
    vendor: 'concord',
    validate(value) {
      const v = value as Partial<SagaEndedPayload> | null;
      if (typeof v !== 'object' || v === null || typeof v.sagaId !== 'string' || typeof v.status !== 'string') {
        return { issues: [{ message: 'expected { sagaId, status }' }] };
      }
      return { value: v as SagaEndedPayload };
    },
  },
};

const endedDefinitions = new Map<string, MessageDefinition<string, typeof sagaEndedSchema>>();

/**
 * "This saga is over": sent by the orchestrator, in its final transition, to every channel the
 * saga sent commands to, so participants release its semantic locks. One type per channel,
 * because a consumer dispatches by type and may serve several channels.
 */
export function sagaEndedMessage(channel: string): MessageDefinition<string, typeof sagaEndedSchema> {
  let def = endedDefinitions.get(channel);
  if (!def) {
    def = defineMessage(`concord.SagaEnded:${channel}`, { channel, schema: sagaEndedSchema, partitionKey: (p) => p.sagaId });
    endedDefinitions.set(channel, def);
  }
  return def;
}
