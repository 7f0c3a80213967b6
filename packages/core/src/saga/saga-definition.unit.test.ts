import { describe, expect, it } from 'vitest';
import { counterSchema } from '../testing/test-messages.js';
import { defineCommand } from './command-definition.js';
import { defineSaga, SagaDefinitionError, type ReplyHandler } from './saga-definition.js';
import { fail, ok, type FailAction } from './saga-failure.js';

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
    const saga = defineSaga('Ok', counterSchema, { failures: ['REFUSED'] })
      .step('a', { local: () => undefined, compensate: { local: () => undefined } })
      .step('b', { invoke, onReply: { Reserved: ok(), Refused: fail('REFUSED') }, compensate: { invoke: Release.with((d) => ({ key: d.key, seq: 1 })) } })
      .step('c', { kind: 'pivot', invoke, onReply: { Reserved: ok(), Refused: fail('REFUSED') } })
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
        defineSaga('Bad', counterSchema, { failures: ['X'] })
          .step('x', { local: () => undefined })
          .step('x', { local: () => undefined })
          .step('both', { local: () => undefined, invoke, onReply: { Reserved: ok(), Refused: ok() } } as never)
          // @ts-expect-error -- Typo is not a reply of t.Reserve: a compile error, and a build error for JS users
          .step('typo', { invoke, onReply: { Reserved: ok(), Refused: ok(), Typo: fail('X') } })
          .build(),
      ),
    ).toEqual([
      'step 2 "x": the name is used twice',
      'step 3 "both": give exactly one of local or invoke',
      'step 4 "typo": t.Reserve has no reply "Typo" (declared: Reserved, Refused)',
    ]);
  });

  it('refuses bad timeouts and bad names', () => {
    expect(problems(() => defineSaga('T', counterSchema).step('s', { invoke, onReply: { Reserved: ok(), Refused: ok() }, timeoutMs: -1 }).build())).toEqual([
      'step 1 "s": timeoutMs must be a positive integer',
    ]);
    expect(() => defineSaga('bad name!', counterSchema)).toThrow(/saga name "bad name!"/);
    expect(() => fail('')).toThrow(/failure reason/);
  });

  it('types replies: a reply handler sees its own payload type', () => {
    defineSaga('Typed', counterSchema).step('s', {
      invoke,
      onReply: {
        Refused: ok(),
        Reserved: (_tx, data, reply) => {
          const seq: number = reply.seq;
          // @ts-expect-error -- replies have no field "nope"
          void reply.nope;
          return { ...data, seq };
        },
      },
    });
  });

  it('makes onReply exhaustive: every declared reply is mapped, success says ok()', () => {
    // A reply added to a command's contract (here Refused) breaks every saga that does not say what it means.
    // @ts-expect-error -- Refused is not mapped
    defineSaga('Partial', counterSchema).step('s', { invoke, onReply: { Reserved: ok() } });
    // @ts-expect-error -- an invoke step must map its replies
    defineSaga('None', counterSchema).step('s', { invoke });
    // JavaScript callers (and casts) meet the same rule when the saga is built.
    expect(problems(() => defineSaga('Partial', counterSchema).step('s', { invoke, onReply: { Reserved: ok() } } as never).build())).toEqual([
      'step 1 "s": onReply must say what each reply of t.Reserve means (ok(), fail(reason) or a handler); missing: Refused',
    ]);
    expect(problems(() => defineSaga('Odd', counterSchema).step('s', { invoke, onReply: { Reserved: ok(), Refused: 'yes' } } as never).build())).toEqual([
      'step 1 "s": onReply.Refused must be ok(), fail(reason) or a handler',
    ]);
  });

  it('takes the transaction first everywhere: local, compensate and reply handlers', () => {
    defineSaga('Order', counterSchema)
      .step('a', {
        local: async (tx, data) => {
          await tx.sql.execute('SELECT ?', [data.key]);
        },
        compensate: {
          local: async (tx, data, reason) => {
            await tx.sql.execute('SELECT ?, ?', [data.key, reason]);
          },
        },
      })
      .step('b', {
        invoke,
        onReply: {
          Reserved: async (tx, data, reply) => {
            await tx.sql.execute('SELECT ?, ?', [data.key, reply.seq]);
          },
          Refused: ok(),
        },
      });
    // @ts-expect-error -- the transaction comes first, not the data (the order before issue 14)
    const dataFirst: ReplyHandler<{ key: string }, { seq: number }> = (data: { key: string }, reply: { seq: number }) => ({ ...data, ...reply });
    void dataFirst;
  });

  it("infers the saga's data type in .with, and keeps failure reasons as literal types", () => {
    defineSaga('Inferred', counterSchema).step('s', {
      // @ts-expect-error -- d is the saga's data (key, seq): it has no field "nope"
      invoke: Reserve.with((d) => ({ key: d.nope, seq: d.seq })),
      onReply: { Reserved: ok(), Refused: ok() },
    });
    const refused: FailAction<'REFUSED'> = fail('REFUSED');
    // @ts-expect-error -- a reason is its literal type, not any string
    const other: FailAction<'REFUSED'> = fail('OTHER');
    expect([refused.reason, other.reason]).toEqual(['REFUSED', 'OTHER']);
  });
});
