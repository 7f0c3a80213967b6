import { describe, expect, it } from 'vitest';
import { counterSchema } from '../testing/test-messages.js';
import { defineCommand } from './command-definition.js';
import { defineSaga, fail, SagaDefinitionError } from './saga-definition.js';

const Reserve = defineCommand('t.Reserve', {
  channel: 'customers',
  schema: counterSchema,
  replies: { Reserved: counterSchema, Refused: counterSchema },
});
const Release = defineCommand('t.Release', { channel: 'customers', schema: counterSchema, replies: { Released: counterSchema } });
const invoke = Reserve.with((d: { key: string }) => ({ key: d.key, seq: 1 }));

function problems(build: () => unknown): string[] {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(SagaDefinitionError);
    expect((error as SagaDefinitionError).code).toBe('SAGA_DEFINITION_INVALID');
    return [...(error as SagaDefinitionError).problems];
  }
  throw new Error('expected build() to throw');
}

describe('saga definitions are validated when built', () => {
  it('accepts compensatable steps, one pivot, then retriable steps', () => {
    const saga = defineSaga('Ok', counterSchema)
      .step('a', { local: () => undefined, compensate: { local: () => undefined } })
      .step('b', { invoke, compensate: { invoke: Release.with((d: { key: string }) => ({ key: d.key, seq: 1 })) } })
      .step('c', { kind: 'pivot', invoke, onReply: { Refused: fail('REFUSED') } })
      .step('d', { kind: 'retriable', local: () => undefined })
      .build();
    expect(saga.steps.map((s) => `${s.name}:${s.kind}`)).toEqual(['a:compensatable', 'b:compensatable', 'c:pivot', 'd:retriable']);
    expect(Object.isFrozen(saga.steps)).toBe(true);
  });

  it('refuses two pivots, a compensated pivot, and non-retriable steps after the pivot, naming each', () => {
    expect(
      problems(() =>
        defineSaga('Bad', counterSchema)
          .step('p1', { kind: 'pivot', local: () => undefined, compensate: { local: () => undefined } })
          .step('after', { local: () => undefined })
          .step('p2', { kind: 'pivot', local: () => undefined })
          .build(),
      ),
    ).toEqual([
      'step 1 "p1": a pivot step has no compensation',
      'step 2 "after": steps after the pivot must be retriable',
      'step 3 "p2": a saga has at most one pivot (step 1 is one already)',
    ]);
  });

  it('refuses a compensated retriable step and a compensatable step after a retriable one', () => {
    expect(
      problems(() =>
        defineSaga('Bad', counterSchema)
          .step('r', { kind: 'retriable', local: () => undefined, compensate: { local: () => undefined } })
          .step('c', { local: () => undefined })
          .build(),
      ),
    ).toEqual([
      'step 1 "r": a retriable step has no compensation (it never fails for good)',
      'step 2 "c": steps after a retriable step must be retriable',
    ]);
  });

  it('refuses duplicate names, empty sagas, both local and invoke, and unknown reply names', () => {
    expect(problems(() => defineSaga('Empty', counterSchema).build())).toEqual(['a saga needs at least one step']);
    expect(
      problems(() =>
        defineSaga('Bad', counterSchema)
          .step('x', { local: () => undefined })
          .step('x', { local: () => undefined })
          .step('both', { local: () => undefined, invoke } as never)
          // @ts-expect-error -- Typo is not a reply of t.Reserve: a compile error, and a build error for JS users
          .step('typo', { invoke, onReply: { Typo: fail('X') } })
          .build(),
      ),
    ).toEqual([
      'step 2 "x": the name is used twice',
      'step 3 "both": give exactly one of local or invoke',
      'step 4 "typo": t.Reserve has no reply "Typo" (declared: Reserved, Refused)',
    ]);
  });

  it('refuses bad timeouts and bad names', () => {
    expect(problems(() => defineSaga('T', counterSchema).step('s', { invoke, timeoutMs: -1 }).build())).toEqual([
      'step 1 "s": timeoutMs must be a positive integer',
    ]);
    expect(() => defineSaga('bad name!', counterSchema)).toThrow(/saga name "bad name!"/);
    expect(() => fail('')).toThrow(/failure reason/);
  });

  it('types replies: a reply handler sees its own payload type', () => {
    defineSaga('Typed', counterSchema).step('s', {
      invoke,
      onReply: {
        Reserved: (data, reply) => {
          const seq: number = reply.seq;
          // @ts-expect-error -- replies have no field "nope"
          void reply.nope;
          return { ...data, seq };
        },
      },
    });
  });
});
