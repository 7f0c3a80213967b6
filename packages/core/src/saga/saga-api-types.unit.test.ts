import { describe, expect, it } from 'vitest';
import type { Broker } from '../ports/broker.js';
import type { Transaction } from '../ports/store.js';
import { counterSchema, type CounterPayload } from '../testing/test-messages.js';
import { defineCommand } from './command-definition.js';
import { defineSaga, SagaDefinitionError, type SagaDefinition } from './saga-definition.js';
import { fail, ok, type SagaFailureCode } from './saga-failure.js';
import { SagaOrchestrator } from './saga-orchestrator.js';
import type { SagaStore } from './saga-store.js';

// Type-level pins of the saga API (issue 14): each `@ts-expect-error` below is a mistake the
// compiler must keep refusing; `typecheck` fails the day one of them compiles.

/** True when A and B are the same type (not merely assignable). */
type Equal<A, B> = (<V>() => V extends A ? 1 : 2) extends <V>() => V extends B ? 1 : 2 ? true : false;
/** `typeOf(value).is<T>(true)` compiles only when `value` is exactly of type T. */
const typeOf = <V>(value: V) => ({ is: <T>(proof: Equal<V, T>): unknown => proof && value });

const Reserve = defineCommand('types.Reserve', {
  channel: 'types',
  schema: counterSchema,
  replies: { Reserved: counterSchema, Refused: counterSchema, Gone: counterSchema },
});
const Release = defineCommand('types.Release', { channel: 'types', schema: counterSchema, replies: { Released: counterSchema } });

/** A driver handle only some stores have (a SQLite database, a pg client). */
interface FakeDb {
  prepare(sql: string): { run(...params: unknown[]): void };
}
type FakeDbTransaction = Transaction<FakeDb>;

const reserveAndRelease = defineSaga('types.Order', counterSchema, { failures: ['REFUSED', 'GONE'] })
  .step('note', {
    local: () => undefined,
    compensate: {
      local: (_tx, _data, why) => {
        typeOf(why).is<'REFUSED' | 'GONE' | SagaFailureCode>(true);
      },
    },
  })
  .step('reserve', {
    invoke: Reserve.with((d) => ({ key: d.key, seq: d.seq })),
    onReply: { Reserved: ok(), Refused: fail('REFUSED'), Gone: fail('GONE') },
    compensate: { invoke: Release.with((d) => d) },
  })
  .build();

describe('saga API types', () => {
  it('types failure reasons from the declared failures through to compensations', () => {
    // @ts-expect-error -- GONE is not among the saga's failures
    defineSaga('types.Declared', counterSchema, { failures: ['REFUSED'] }).step('s', {
      invoke: Reserve.with((d) => d),
      onReply: { Reserved: ok(), Refused: fail('REFUSED'), Gone: fail('GONE') },
    });
    // @ts-expect-error -- a saga that declares no failures cannot fail(...) a reply
    defineSaga('types.Undeclared', counterSchema).step('s', {
      invoke: Reserve.with((d) => d),
      onReply: { Reserved: ok(), Refused: fail('REFUSED'), Gone: ok() },
    });
    defineSaga('types.Compare', counterSchema, { failures: ['REFUSED'] })
      .step('a', {
        local: () => undefined,
        compensate: {
          local: (_tx, _data, why) => {
            if (why === 'REFUSED' || why === 'TIMEOUT') return;
            // @ts-expect-error -- a misspelt reason is no reason this saga can have
            if (why === 'REFUSD') return;
          },
        },
      })
      .parallel('g', (g) =>
        g
          .branch('x', {
            local: () => undefined,
            compensate: { local: (_tx, _d, why) => void typeOf(why).is<'REFUSED' | SagaFailureCode>(true) },
          })
          .branch('y', { invoke: Reserve.with((d) => d), onReply: { Reserved: ok(), Refused: fail('REFUSED'), Gone: ok() } }),
      );
    expect(reserveAndRelease.failures).toEqual(['REFUSED', 'GONE']);
  });

  it('refuses, when built, a fail(reason) the saga did not declare (JavaScript callers)', () => {
    const build = () =>
      defineSaga('types.Js', counterSchema, { failures: ['REFUSED'] })
        // A JavaScript caller: no types, so the data is written out here.
        .step('s', { invoke: Reserve.with((d: CounterPayload) => d), onReply: { Reserved: ok(), Refused: fail('REFUSED'), Gone: fail('GONE') } } as never)
        .build();
    expect(build).toThrow(SagaDefinitionError);
    expect(build).toThrow(`step 1 "s": onReply.Gone fails with "GONE", which is not among the saga's failures (REFUSED)`);
    expect(() => defineSaga('types.BadReason', counterSchema, { failures: ['not a reason!'] })).toThrow(/failure reason/);
  });

  it("gives step handlers the store's transaction type when the saga names it", () => {
    defineSaga('types.Portable', counterSchema).step('s', {
      local: (tx) => {
        typeOf(tx).is<Transaction<unknown>>(true);
        // @ts-expect-error -- without a transaction type, the handle is unknown
        tx.handle.prepare('SELECT 1');
      },
    });
    defineSaga('types.OnFakeDb', counterSchema, { failures: ['REFUSED'] })
      .transactionType<FakeDbTransaction>()
      .step('s', {
        local: (tx, d) => tx.handle.prepare('INSERT INTO t VALUES (?)').run(d.key),
        compensate: { local: (tx) => void tx.handle.prepare('DELETE FROM t').run() },
      })
      .step('r', {
        invoke: Reserve.with((d) => d),
        onReply: { Reserved: (tx) => void tx.handle.prepare('UPDATE t').run(), Refused: fail('REFUSED'), Gone: ok() },
      });
    expect(() => defineSaga('types.Late', counterSchema).step('s', { local: () => undefined }).transactionType<FakeDbTransaction>()).toThrow(
      'saga types.Late: name the transaction type before the first step',
    );
  });

  it("infers the saga's data everywhere: .with, compensations, branches, reply handlers", () => {
    defineSaga('types.Inferred', counterSchema)
      .step('s', {
        invoke: Reserve.with((d) => {
          typeOf(d).is<CounterPayload>(true);
          return d;
        }),
        onReply: {
          Reserved: (_tx, d, reply) => {
            typeOf(d).is<CounterPayload>(true);
            typeOf(reply).is<CounterPayload>(true);
          },
          Refused: ok(),
          Gone: ok(),
        },
        compensate: {
          invoke: Release.with((d) => {
            typeOf(d).is<CounterPayload>(true);
            return d;
          }),
        },
      })
      .parallel('g', (g) =>
        g
          .branch('a', {
            invoke: Reserve.with((d) => {
              typeOf(d).is<CounterPayload>(true);
              return d;
            }),
            onReply: { Reserved: ok(), Refused: ok(), Gone: ok() },
          })
          .branch('b', { local: (_tx, d) => void typeOf(d).is<CounterPayload>(true) }),
      );
  });

  it('keeps a definition assignable to SagaDefinition<D> whatever its failures and names', () => {
    const sagas: SagaDefinition<CounterPayload>[] = [reserveAndRelease];
    expect(sagas).toHaveLength(1);
  });

  it('registers sagas once: begin takes a registered name and its data, views are typed by name', () => {
    // Types only: never called (no store in a unit test).
    const typesOnly = async (store: SagaStore<unknown>, fakeDbStore: SagaStore<FakeDb>, broker: Broker) => {
      const onFakeDb = defineSaga('types.OnFakeDb', counterSchema)
        .transactionType<FakeDbTransaction>()
        .step('s', { local: (tx) => void tx.handle.prepare('SELECT 1').run() })
        .build();
      const orchestrator = new SagaOrchestrator({ name: 'types', store: fakeDbStore, broker, sagas: [reserveAndRelease, onFakeDb] });
      await orchestrator.begin('types.Order', { key: 'k', seq: 1 });
      await orchestrator.begin('types.OnFakeDb', { key: 'k', seq: 2 }, { sagaId: 'x' });
      // @ts-expect-error -- not a saga registered with this orchestrator
      await orchestrator.begin('types.Unknown', { key: 'k', seq: 1 });
      // @ts-expect-error -- the data must match the saga's schema
      await orchestrator.begin('types.Order', { key: 1 });
      // @ts-expect-error -- a saga whose steps need a FakeDb handle does not run on a store without one
      new SagaOrchestrator({ name: 'portable', store, broker, sagas: [reserveAndRelease, onFakeDb] });

      orchestrator.onChange((saga) => {
        if (saga.sagaType !== 'types.Order') return;
        typeOf(saga.data).is<CounterPayload>(true);
        typeOf(saga.failureReason).is<'REFUSED' | 'GONE' | SagaFailureCode | null>(true);
      });
      const view = await orchestrator.get('id', 'types.Order');
      for (const entry of view?.history ?? []) {
        if (entry.event === 'STEP_FAILED') typeOf(entry.detail.reason).is<'REFUSED' | 'GONE' | SagaFailureCode>(true);
      }
      for (const listed of await orchestrator.list({ sagaType: 'types.Order', status: 'COMPENSATED' })) {
        typeOf(listed.failureReason).is<'REFUSED' | 'GONE' | SagaFailureCode | null>(true);
      }
      // @ts-expect-error -- not a registered saga type
      await orchestrator.get('id', 'types.Unknown');
    };
    expect(typesOnly).toBeTypeOf('function');
  });
});
