import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidPayloadError, IllegalStateError, isConcordError } from '../errors.js';
import { MessageHeader } from '../message/envelope.js';
import type { Store } from '../ports/store.js';
import { MESSAGE_HEADER_REPLAY_FOR } from '../sql/sql-store.js';
import { counterEvent } from './test-messages.js';
import { uniqueName } from './wait.js';

export interface StoreUnderTest<H = unknown> {
  readonly store: Store<H>;
  /** Drops whatever the factory created (database, schema, file). */
  cleanup(): Promise<void>;
}

/**
 * The Store port's contract. Every adapter runs it against its real server:
 * `describeStoreConformance('postgres', () => openTestStore())`.
 */
export function describeStoreConformance<H>(name: string, factory: () => Promise<StoreUnderTest<H>>): void {
  describe(`Store conformance: ${name}`, () => {
    let sut: StoreUnderTest<H>;
    let store: Store<H>;
    const Counted = counterEvent(uniqueName('conformance'));

    beforeAll(async () => {
      sut = await factory();
      store = sut.store;
    });
    afterAll(async () => {
      await sut?.cleanup();
    });

    async function drainUnsent() {
      const records = await store.outbox.fetchUnsent(10_000);
      await store.outbox.markSent(records.map((r) => r.position));
      return records;
    }

    it('applies migrations idempotently', async () => {
      await store.migrate();
      await store.migrate();
    });

    it('commits outbox messages with the transaction, in order, envelope intact', async () => {
      await drainUnsent();
      await store.transaction(async (tx) => {
        await tx.outbox.send(Counted, { key: 'a', seq: 1 });
        await tx.outbox.send(Counted, { key: 'a', seq: 2 }, { headers: { 'x-test': 'yes' } });
      });
      const records = await store.outbox.fetchUnsent(100);
      expect(records.map((r) => (r.envelope.payload as { seq: number }).seq)).toEqual([1, 2]);
      const [first, second] = records;
      expect(first!.position).toBeLessThan(second!.position);
      expect(second!.envelope).toMatchObject({
        type: Counted.type,
        channel: Counted.channel,
        partitionKey: 'a',
        schemaVersion: 1,
        payload: { key: 'a', seq: 2 },
      });
      expect(second!.envelope.headers['x-test']).toBe('yes');
      expect(second!.envelope.headers[MessageHeader.correlationId]).toBe(second!.envelope.id);
      expect(second!.envelope.id).toMatch(/^[0-9a-f-]{36}$/);
      await drainUnsent();
    });

    it('sends nothing when the business transaction rolls back', async () => {
      await drainUnsent();
      await expect(
        store.transaction(async (tx) => {
          await tx.outbox.send(Counted, { key: 'b', seq: 1 });
          throw new Error('business rule failed');
        }),
      ).rejects.toThrow('business rule failed');
      expect(await store.outbox.fetchUnsent(100)).toEqual([]);
      expect((await store.outbox.lag()).count).toBe(0);
    });

    it('refuses an invalid payload at send with a named error, writing nothing', async () => {
      const error = await store
        .transaction(async (tx) => {
          await tx.outbox.send(Counted, { key: 'c', seq: 'one' } as never);
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidPayloadError);
      expect(isConcordError(error, 'INVALID_PAYLOAD')).toBe(true);
      expect((error as InvalidPayloadError).issues).toEqual([{ path: 'seq', message: 'expected an integer' }]);
      expect(await store.outbox.fetchUnsent(100)).toEqual([]);
    });

    it('propagates correlation and causation from the message being handled', async () => {
      await store.transaction(async (tx) => {
        await tx.outbox.send(Counted, { key: 'd', seq: 1 });
      });
      const [cause] = await drainUnsent();
      await store.transaction(
        async (tx) => {
          await tx.outbox.send(Counted, { key: 'd', seq: 2 });
        },
        { causedBy: cause!.envelope },
      );
      const [effect] = await drainUnsent();
      expect(effect!.envelope.headers[MessageHeader.causationId]).toBe(cause!.envelope.id);
      expect(effect!.envelope.headers[MessageHeader.correlationId]).toBe(cause!.envelope.id);
    });

    it('reports lag: count and age of the oldest unsent message', async () => {
      await drainUnsent();
      expect(await store.outbox.lag()).toEqual({ count: 0, oldestAgeMs: null });
      await store.transaction(async (tx) => {
        await tx.outbox.send(Counted, { key: 'e', seq: 1 });
        await tx.outbox.send(Counted, { key: 'e', seq: 2 });
      });
      const lag = await store.outbox.lag();
      expect(lag.count).toBe(2);
      expect(lag.oldestAgeMs).toBeGreaterThanOrEqual(0);
      await drainUnsent();
      expect((await store.outbox.lag()).count).toBe(0);
    });

    it('notifies committed-outbox listeners after commit only', async () => {
      let calls = 0;
      const off = store.outbox.onCommitted(() => calls++);
      await store.transaction(async (tx) => {
        await tx.outbox.send(Counted, { key: 'f', seq: 1 });
      });
      await store.transaction(async (tx) => tx.outbox.send(Counted, { key: 'f', seq: 2 })).catch(() => {});
      await store
        .transaction(async (tx) => {
          await tx.outbox.send(Counted, { key: 'f', seq: 3 });
          throw new Error('rollback');
        })
        .catch(() => {});
      off();
      expect(calls).toBe(2);
      await drainUnsent();
    });

    it('runs afterCommit hooks only when the transaction commits', async () => {
      const ran: string[] = [];
      await store.transaction((tx) => tx.afterCommit(() => ran.push('committed')));
      await store
        .transaction((tx) => {
          tx.afterCommit(() => ran.push('rolled back'));
          throw new Error('no');
        })
        .catch(() => {});
      expect(ran).toEqual(['committed']);
    });

    it('runs hooks and wakes relays for work done in savepoints of scoped views, and drops those of rolled-back savepoints', async () => {
      await drainUnsent();
      const ran: string[] = [];
      let woken = 0;
      const off = store.outbox.onCommitted(() => woken++);
      await store.transaction(async (tx) => {
        await tx.outbox.send(Counted, { key: 'h', seq: 0 });
        const [cause] = await tx.outbox.send(Counted, { key: 'h', seq: 1 }).then((e) => [e]);
        const view = tx.scoped(cause!);
        await view.savepoint(async (sub) => {
          sub.afterCommit(() => ran.push('kept'));
          await sub.outbox.send(Counted, { key: 'h', seq: 2 });
        });
        await view
          .savepoint(async (sub) => {
            sub.afterCommit(() => ran.push('dropped'));
            throw new Error('undo this savepoint');
          })
          .catch(() => {});
        expect(ran).toEqual([]);
      });
      off();
      expect(ran).toEqual(['kept']);
      expect(woken).toBe(1);
      const sent = await drainUnsent();
      expect(sent.map((r) => (r.envelope.payload as { seq: number }).seq)).toEqual([0, 1, 2]);
      expect(sent[2]!.envelope.headers[MessageHeader.causationId]).toBe(sent[1]!.envelope.id);
    });

    /** Which of `ids` the inbox holds for `consumer` (probed in a transaction rolled back after). */
    async function recorded(consumer: string, ids: readonly string[]): Promise<string[]> {
      const held: string[] = [];
      await store
        .transaction(async (tx) => {
          for (const id of ids) if (!(await tx.inbox.tryRecord(consumer, id))) held.push(id);
          throw new Error('probe only');
        })
        .catch(() => {});
      return held;
    }

    it('undoes a keyed savepoint that fails, runs its function once, and commits the rest', async () => {
      await drainUnsent();
      const consumer = uniqueName('keyed-savepoint');
      let calls = 0;
      await store.transaction(async (tx) => {
        await tx.inbox.tryRecord(consumer, 'before');
        const failed = await tx
          .savepoint(
            async (sub) => {
              calls++;
              await sub.inbox.tryRecord(consumer, 'inside');
              await sub.outbox.send(Counted, { key: 'sp', seq: 1 });
              throw new Error('undo this savepoint');
            },
            { key: 'first' },
          )
          .catch((error: Error) => error.message);
        expect(failed).toBe('undo this savepoint');
        await tx.savepoint((sub) => sub.inbox.tryRecord(consumer, 'kept'), { key: 'second' });
        await tx.outbox.send(Counted, { key: 'sp', seq: 2 });
      });
      // Once, though the transaction may have run twice (the failure is replayed, not re-run).
      expect(calls).toBe(1);
      expect(await recorded(consumer, ['before', 'inside', 'kept'])).toEqual(['before', 'kept']);
      expect((await drainUnsent()).map((r) => (r.envelope.payload as { seq: number }).seq)).toEqual([2]);
    });

    it('takes a real savepoint where a second run of the transaction reaches another one than the first', async () => {
      const consumer = uniqueName('diverging-savepoint');
      let run = 0;
      await store.transaction(async (tx) => {
        run++;
        await tx
          .savepoint(
            async (sub) => {
              await sub.inbox.tryRecord(consumer, `inside-${run}`);
              // The first run's failure must not stand for the second run's savepoint: it succeeds.
              if (run === 1) throw new Error('undo this savepoint');
            },
            { key: `path-${run}` },
          )
          .catch(() => {});
        await tx.inbox.tryRecord(consumer, 'after');
      });
      // A store that never reruns (real savepoints throughout) ran it once: inside-1 undone.
      const expected = run === 1 ? ['after'] : ['inside-2', 'after'];
      expect(await recorded(consumer, ['inside-1', 'inside-2', 'after'])).toEqual(expected);
    });

    it('records an inbox entry once per consumer, and rolls it back with the transaction', async () => {
      const id = uniqueName('msg');
      expect(await store.transaction((tx) => tx.inbox.tryRecord('c1', id))).toBe(true);
      expect(await store.transaction((tx) => tx.inbox.tryRecord('c1', id))).toBe(false);
      expect(await store.transaction((tx) => tx.inbox.tryRecord('c2', id))).toBe(true);
      const other = uniqueName('msg');
      await store
        .transaction(async (tx) => {
          await tx.inbox.tryRecord('c1', other);
          throw new Error('rollback');
        })
        .catch(() => {});
      expect(await store.transaction((tx) => tx.inbox.tryRecord('c1', other))).toBe(true);
    });

    it('counts failed attempts per consumer and message', async () => {
      const id = uniqueName('msg');
      expect(await store.recordFailedAttempt('c1', id, 'boom')).toBe(1);
      expect(await store.recordFailedAttempt('c1', id, 'boom')).toBe(2);
      expect(await store.recordFailedAttempt('c2', id, 'boom')).toBe(1);
    });

    it('keeps dead letters and replays one once, to its consumer only, with a new id', async () => {
      await store.transaction(async (tx) => {
        await tx.outbox.send(Counted, { key: 'g', seq: 1 });
      });
      const [record] = await drainUnsent();
      const consumer = uniqueName('dlq');
      await store.transaction(async (tx) => {
        await tx.inbox.tryRecord(consumer, record!.envelope.id);
        await tx.inbox.addDeadLetter({ consumer, message: record!.envelope, error: 'boom', stack: 'at x', attempts: 3 });
      });
      const letters = await store.deadLetters.list({ consumer });
      expect(letters).toHaveLength(1);
      const letter = letters[0]!;
      expect(letter).toMatchObject({ consumer, error: 'boom', stack: 'at x', attempts: 3, replayedAt: null });
      expect(letter.message).toEqual(record!.envelope);
      expect(await store.deadLetters.get(letter.id)).toEqual(letter);

      const replayed = await store.deadLetters.replay(letter.id);
      expect(replayed.id).not.toBe(record!.envelope.id);
      expect(replayed.headers[MessageHeader.replayOf]).toBe(record!.envelope.id);
      expect(replayed.headers[MESSAGE_HEADER_REPLAY_FOR]).toBe(consumer);
      const [sent] = await drainUnsent();
      expect(sent!.envelope).toEqual(replayed);
      expect(await store.deadLetters.list({ consumer })).toEqual([]);
      expect((await store.deadLetters.list({ consumer, includeReplayed: true }))[0]!.replayedAt).not.toBeNull();
      await expect(store.deadLetters.replay(letter.id)).rejects.toBeInstanceOf(IllegalStateError);
      await expect(store.deadLetters.replay(999_999_999)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('parks an outbox row with its reason, lists it, replays it into the outbox and refuses a second resolution', async () => {
      await drainUnsent();
      await store.transaction(async (tx) => {
        await tx.outbox.send(Counted, { key: 'p', seq: 1 });
        await tx.outbox.send(Counted, { key: 'p', seq: 2 });
        await tx.outbox.send(Counted, { key: 'p', seq: 3 });
      });
      const [first, second, third] = await store.outbox.fetchUnsent(10);
      expect(await store.outbox.park(first!.position, 'refused: too big')).toBe(true);
      expect(await store.outbox.park(first!.position, 'again')).toBe(false);
      expect(await store.outbox.park(second!.position, 'refused: corrupt')).toBe(true);
      expect((await store.outbox.fetchUnsent(10)).map((r) => r.envelope.id)).toEqual([third!.envelope.id]);
      const parked = await store.parkedOutbox.list();
      const mine = parked.filter((p) => [first, second].some((r) => r!.envelope.id === p.messageId));
      expect(mine.map((p) => [p.messageId, p.error, p.resolution])).toEqual([
        [first!.envelope.id, 'refused: too big', null],
        [second!.envelope.id, 'refused: corrupt', null],
      ]);
      expect(JSON.parse(mine[0]!.payload)).toEqual({ key: 'p', seq: 1 });

      await store.parkedOutbox.replay(mine[0]!.id);
      await store.parkedOutbox.discard(mine[1]!.id);
      const again = await store.outbox.fetchUnsent(10);
      expect(again.map((r) => r.envelope.id)).toEqual([third!.envelope.id, first!.envelope.id]);
      expect(again[1]!.envelope).toEqual(first!.envelope);
      expect((await store.parkedOutbox.list()).filter((p) => p.id === mine[0]!.id || p.id === mine[1]!.id)).toEqual([]);
      const resolved = await store.parkedOutbox.list({ includeResolved: true });
      expect(resolved.find((p) => p.id === mine[1]!.id)!.resolution).toBe('discarded');
      await expect(store.parkedOutbox.replay(mine[1]!.id)).rejects.toMatchObject({ code: 'ILLEGAL_STATE' });
      await expect(store.parkedOutbox.discard(999_999_999)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await drainUnsent();
    });

    it('retention removes old inbox rows, attempts, replayed dead letters and resolved parked rows; never open ones', async () => {
      const DAY = 24 * 3_600_000;
      const consumer = uniqueName('ret');
      const seen = uniqueName('msg');
      await store.transaction((tx) => tx.inbox.tryRecord(consumer, seen));
      await store.recordFailedAttempt(consumer, seen, 'boom');
      await store.transaction(async (tx) => {
        await tx.outbox.send(Counted, { key: 'r', seq: 1 });
        await tx.outbox.send(Counted, { key: 'r', seq: 2 });
      });
      const [a, b] = await drainUnsent();
      await store.transaction(async (tx) => {
        await tx.inbox.addDeadLetter({ consumer, message: a!.envelope, error: 'open', stack: null, attempts: 1 });
        await tx.inbox.addDeadLetter({ consumer, message: b!.envelope, error: 'replayed', stack: null, attempts: 1 });
      });
      const letters = await store.deadLetters.list({ consumer });
      await store.deadLetters.replay(letters.find((l) => l.error === 'replayed')!.id);
      await drainUnsent();

      const task = store.retentionTask({ inboxMs: 7 * DAY, attemptsMs: 7 * DAY, deadLettersMs: 30 * DAY });
      await task.sweep(Date.now() + DAY);
      expect(await store.transaction((tx) => tx.inbox.tryRecord(consumer, seen))).toBe(false);
      const removed = await task.sweep(Date.now() + 31 * DAY);
      expect(removed.inbox).toBeGreaterThanOrEqual(1);
      expect(removed.attempts).toBeGreaterThanOrEqual(1);
      expect(removed.deadLetters).toBeGreaterThanOrEqual(1);
      expect(await store.transaction((tx) => tx.inbox.tryRecord(consumer, seen))).toBe(true);
      const left = await store.deadLetters.list({ consumer, includeReplayed: true });
      expect(left.map((l) => l.error)).toEqual(['open']);
      const kept = await store.retentionTask({ inboxMs: null, attemptsMs: null, deadLettersMs: null, parkedOutboxMs: null }).sweep(
        Date.now() + 365 * DAY,
      );
      expect(kept).toEqual({});
    });
  });
}
