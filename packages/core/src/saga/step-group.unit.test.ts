import { describe, expect, it } from 'vitest';
import { counterSchema } from '../testing/test-messages.js';
import { defineCommand } from './command-definition.js';
import { defineSaga, SagaDefinitionError } from './saga-definition.js';
import { fail, ok } from './saga-failure.js';
import type { CommandHandler } from './saga-participant.js';

const Reserve = defineCommand('g.Reserve', { channel: 'kitchen', schema: counterSchema, replies: { Reserved: counterSchema, Refused: counterSchema } });
const Release = defineCommand('g.Release', { channel: 'kitchen', schema: counterSchema, replies: { Released: counterSchema } });
const invoke = Reserve.with((d: { key: string }) => ({ key: d.key, seq: 1 }));
const compensate = { invoke: Release.with((d: { key: string }) => ({ key: d.key, seq: 1 })) };
const onReply = { Reserved: ok(), Refused: fail('REFUSED') };

function problems(build: () => unknown): string[] {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(SagaDefinitionError);
    return [...(error as SagaDefinitionError).problems];
  }
  throw new Error('expected build() to throw');
}

describe('parallel step groups', () => {
  it('builds a group as one compensatable step whose branches are named group.branch', () => {
    const saga = defineSaga('G', counterSchema, { failures: ['REFUSED', 'X'] })
      .parallel('reserve', (g) => g.branch('packet', { invoke, onReply, compensate }).branch('agent', { local: () => undefined }), { timeoutMs: 500 })
      .step('place', { kind: 'pivot', local: () => undefined })
      .build();
    const group = saga.steps[0]!;
    expect(group).toMatchObject({ name: 'reserve', kind: 'compensatable', timeoutMs: 500 });
    expect(group.branches!.map((b) => b.name)).toEqual(['reserve.packet', 'reserve.agent']);
  });

  it('refuses a group after the pivot, a lone branch, twin names, and a reply the command does not declare', () => {
    expect(
      problems(() =>
        defineSaga('G', counterSchema, { failures: ['REFUSED', 'X'] })
          .step('pivot', { kind: 'pivot', local: () => undefined })
          .parallel('late', (g) =>
            g
              .branch('a', { invoke, onReply, compensate })
              .branch('a', { local: () => undefined })
              // @ts-expect-error -- Typo is not a reply of g.Reserve
              .branch('typo', { invoke, onReply: { ...onReply, Typo: fail('X') } }),
          )
          .parallel('lonely', (g) => g.branch('only', { local: () => undefined }), { timeoutMs: 0 })
          .build(),
      ),
    ).toEqual([
      'step 2 "late" branch "a": the name is used twice',
      'step 2 "late" branch "typo": g.Reserve has no reply "Typo" (declared: Reserved, Refused)',
      'step 2 "late": steps after the pivot must be retriable',
      'step 3 "lonely": a parallel group needs at least two branches',
      'step 3 "lonely": timeoutMs must be a positive integer',
      'step 3 "lonely": steps after the pivot must be retriable',
    ]);
  });

  it('types branches like steps: no kind, no own timeout, typed reply payloads', () => {
    defineSaga('Typed', counterSchema).parallel('g', (g) =>
      g
        .branch('a', {
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
        })
        // @ts-expect-error -- branches are compensatable: no kind
        .branch('b', { kind: 'pivot', local: () => undefined })
        // @ts-expect-error -- the timeout belongs to the group
        .branch('c', { invoke, timeoutMs: 5 }),
    );
  });

  it('types deferred replies: a handler may answer later, but only with a declared reply when it answers', () => {
    const later: CommandHandler<unknown, typeof Reserve> = (_tx, _cmd, reply) => reply.later();
    const now: CommandHandler<unknown, typeof Reserve> = (_tx, cmd, reply) => reply.Reserved(cmd);
    // @ts-expect-error -- Released is a reply of another command
    const wrong: CommandHandler<unknown, typeof Reserve> = (_tx, cmd, reply) => reply.Released(cmd);
    expect([later, now, wrong]).toHaveLength(3);
  });
});
