import type { StandardSchemaV1 } from '@standard-schema/spec';
import { defineEvent } from '../message/message-definition.js';

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
