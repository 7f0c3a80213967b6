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

/** The orchestrator's note to each participant channel it commanded: this saga is finished. */
export interface SagaFinishedPayload {
  readonly sagaId: string;
  readonly status: string;
}

export const SAGA_FINISHED_TYPE = 'concord.SagaFinished';

const sagaFinishedSchema: StandardSchemaV1<SagaFinishedPayload> = {
  '~standard': {
    version: 1,
    vendor: 'concord',
    validate(value) {
      const v = value as Partial<SagaFinishedPayload> | null;
      if (typeof v !== 'object' || v === null || typeof v.sagaId !== 'string' || typeof v.status !== 'string') {
        return { issues: [{ message: 'expected { sagaId: string, status: string }' }] };
      }
      return { value: v as SagaFinishedPayload };
    },
  },
};

const finishedDefinitions = new Map<string, MessageDefinition<typeof SAGA_FINISHED_TYPE, typeof sagaFinishedSchema>>();

export function sagaFinishedMessage(channel: string): MessageDefinition<typeof SAGA_FINISHED_TYPE, typeof sagaFinishedSchema> {
  let def = finishedDefinitions.get(channel);
  if (!def) {
    def = defineMessage(SAGA_FINISHED_TYPE, { channel, schema: sagaFinishedSchema, partitionKey: (p) => p.sagaId });
    finishedDefinitions.set(channel, def);
  }
  return def;
}
