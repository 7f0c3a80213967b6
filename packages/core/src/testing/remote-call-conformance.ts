import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isConcordError } from '../errors.js';
import { IdempotencyKeyReusedError, IdempotencyKeys } from '../idempotency/idempotency-keys.js';
import { silentLogger } from '../logging.js';
import type { Clock } from '../ports/clock.js';
import { RemoteCallConsolidation, type RemoteObject } from '../remote-call/remote-call-consolidation.js';
import { RemoteCallRejectedError, defineRemoteCall } from '../remote-call/remote-call-definition.js';
import { RemoteCallTracker, type RemoteCallTrackerOptions } from '../remote-call/remote-call-tracker.js';
import type { SqlStore } from '../sql/sql-store.js';
import { eventually, uniqueName } from './wait.js';

export interface RemoteCallUnderTest {
  /** A migrated store of its own. */
  readonly store: SqlStore;
  cleanup(): Promise<void>;
}

/**
 * A remote service in memory that behaves like a carrier API with caller-assigned keys: one
 * object per key, void by id. `failNext` makes the next calls throw after doing the work,
 * as a lost response would.
 */
class KeyedRemote {
  readonly objects = new Map<string, { id: string; key: string | null; active: boolean }>();
  calls = 0;
  failNext = 0;
  refuse = false;
  create(key: string): string {
    this.calls++;
    if (this.refuse) throw new RemoteCallRejectedError('refused: bad address');
    let o = [...this.objects.values()].find((x) => x.key === key);
    if (!o)
      this.objects.set(
        `r${this.objects.size + 1}`,
        (o = { id: `r${this.objects.size + 1}`, key, active: true }),
      );
    if (this.failNext > 0 && this.failNext--) throw new Error('connection reset (response lost)');
    return o.id;
  }
  void(id: string): void {
    this.calls++;
    const o = this.objects.get(id);
    if (o) o.active = false;
    if (this.failNext > 0 && this.failNext--) throw new Error('connection reset (response lost)');
  }
  list(): RemoteObject[] {
    return [...this.objects.values()].map((o) => ({ remoteId: o.id, key: o.key, active: o.active }));
  }
}

/** The remote-call tracker and idempotency keys on one SQL store; every adapter runs it. */
export function describeRemoteCallConformance(
  name: string,
  factory: () => Promise<RemoteCallUnderTest>,
): void {
  describe(`remote calls and idempotency keys: ${name}`, () => {
    let t: RemoteCallUnderTest;
    let remote: KeyedRemote;
    let type: string;
    let settled: Array<{ key: string; state: string }>;
    const trackers: RemoteCallTracker[] = [];

    beforeEach(async () => {
      t = await factory();
      remote = new KeyedRemote();
      type = uniqueName('label');
      settled = [];
    });
    afterEach(async () => {
      for (const tracker of trackers.splice(0)) await tracker.stop();
      await t.cleanup();
    });

    const label = () =>
      defineRemoteCall<{ to: string }>({
        type,
        create: async (call) => ({ remoteId: remote.create(call.key), result: { to: call.payload.to } }),
        delete: async (call) => remote.void(call.remoteId ?? remote.create(call.key)),
        onSettled: (tx, r) => tx.afterCommit(() => settled.push({ key: r.key, state: r.state })),
      });
    const tracker = (options: Partial<RemoteCallTrackerOptions> = {}) => {
      const tr = new RemoteCallTracker({
        store: t.store,
        calls: [label()],
        logger: silentLogger,
        backoff: { initialMs: 5, maxMs: 20, multiplier: 2, jitter: 0 },
        pollMs: 50,
        ...options,
      });
      trackers.push(tr);
      return tr;
    };
    const ask = (tr: RemoteCallTracker, key: string, operation: 'create' | 'delete' = 'create') =>
      t.store.transaction((tx) => tr.request(tx, { type, key, operation, payload: { to: 'Berlin' } }));
    const stateOf = async (tr: RemoteCallTracker, key: string) => (await tr.get(type, key))?.state;

    it('records the intent in the caller transaction: a rollback leaves no intent and makes no call', async () => {
      const tr = tracker();
      tr.start();
      await expect(
        t.store.transaction(async (tx) => {
          await tr.request(tx, { type, key: 'k1', operation: 'create', payload: { to: 'Berlin' } });
          throw new Error('business rule failed');
        }),
      ).rejects.toThrow('business rule failed');
      expect(await tr.get(type, 'k1')).toBeUndefined();
      await ask(tr, 'k2');
      await eventually(async () => (await stateOf(tr, 'k2')) === 'created');
      expect(remote.calls).toBe(1);
      const r = (await tr.get(type, 'k2'))!;
      expect(r).toMatchObject({
        state: 'created',
        remoteId: 'r1',
        result: { to: 'Berlin' },
        attempts: 1,
        parkedAt: null,
      });
      expect(settled).toEqual([{ key: 'k2', state: 'created' }]);
      expect((await tr.history(type, 'k2')).map((h) => h.event)).toEqual(['requested', 'answered']);
    });

    it('retries lost answers with the same key, so the remote side holds one object', async () => {
      const tr = tracker();
      remote.failNext = 3;
      await ask(tr, 'k');
      tr.start();
      await eventually(async () => (await stateOf(tr, 'k')) === 'created');
      expect(remote.objects.size).toBe(1);
      expect((await tr.get(type, 'k'))!.attempts).toBe(4);
    });

    it('resumes an intent recorded before a crash when a new tracker starts', async () => {
      const first = tracker();
      await ask(first, 'k');
      // `first` never ran: the process "died" right after the commit.
      const second = tracker();
      second.start();
      await eventually(async () => (await stateOf(second, 'k')) === 'created');
    });

    it('moves a refused create to create_failed, and deletes it without a call', async () => {
      const tr = tracker();
      remote.refuse = true;
      await ask(tr, 'k');
      tr.start();
      await eventually(async () => (await stateOf(tr, 'k')) === 'create_failed');
      const calls = remote.calls;
      expect((await ask(tr, 'k', 'delete')).state).toBe('deleted');
      expect(remote.calls).toBe(calls);
    });

    it('parks what keeps failing for a person, who retries it or settles it with a note', async () => {
      const tr = tracker({ maxAttempts: 2 });
      remote.failNext = 100;
      await ask(tr, 'a');
      await ask(tr, 'b');
      tr.start();
      await eventually(async () => (await tr.list({ type, parked: true })).length === 2);
      const parked = (await tr.get(type, 'a'))!;
      expect(parked).toMatchObject({ state: 'create_requested', attempts: 2, nextAttemptAt: null });
      expect(parked.lastError).toContain('response lost');
      await expect(tr.resolve(type, 'a', { as: 'retry', note: '', actor: 'ops' })).rejects.toThrow(/note/);
      remote.failNext = 0;
      await tr.resolve(type, 'a', { as: 'retry', note: 'carrier is back', actor: 'ops' });
      await eventually(async () => (await stateOf(tr, 'a')) === 'created');
      const done = await tr.resolve(type, 'b', {
        as: 'done',
        note: 'label r1 made by phone',
        actor: 'ops',
        remoteId: 'r1',
      });
      expect(done).toMatchObject({ state: 'created', remoteId: 'r1' });
      const history = await tr.history(type, 'b');
      expect(history.at(-1)).toMatchObject({
        event: 'resolved by a person',
        actor: 'ops',
        detail: { note: 'label r1 made by phone' },
      });
      const error = await tr
        .resolve(type, 'b', { as: 'retry', note: 'again', actor: 'ops' })
        .catch((e: unknown) => e);
      expect(isConcordError(error, 'ILLEGAL_STATE')).toBe(true);
    });

    it('deletes by key an object whose create answer never came', async () => {
      const tr = tracker();
      await ask(tr, 'k'); // not started: the create never ran
      await ask(tr, 'k', 'delete');
      tr.start();
      await eventually(async () => (await stateOf(tr, 'k')) === 'deleted');
      expect(remote.list()).toEqual([{ remoteId: 'r1', key: 'k', active: false }]);
    });

    it('consolidation lists and voids leaks, and finishes stale intents from what the remote side shows', async () => {
      let now = 1_000_000;
      const clock: Clock = { now: () => now, sleep: async () => {} };
      const tr = tracker({ clock });
      remote.create('orphan'); // made outside any intent
      await ask(tr, 'stale'); // its create happened, its answer was lost and nobody retried
      remote.create('stale');
      await ask(tr, 'fresh');
      now += 60_000;
      const consolidation = new RemoteCallConsolidation({
        tracker: tr,
        type,
        listRemote: async () => remote.list(),
        voidRemote: async (o) => remote.void(o.remoteId),
        staleAfterMs: 30_000,
        clock,
      });
      const seen = await consolidation.run({ repair: false });
      expect(seen.leaked).toEqual([
        { remoteId: 'r1', key: 'orphan', reason: 'no intent for this key', repaired: false },
      ]);
      expect(seen.stale.map((s) => s.key).sort()).toEqual(['fresh', 'stale']);
      expect(seen.checked).toBe(3);
      const fixed = await consolidation.run({ repair: true });
      expect(fixed.leaked[0]!.repaired).toBe(true);
      expect(remote.objects.get('r1')!.active).toBe(false);
      expect(await tr.get(type, 'stale')).toMatchObject({ state: 'created', remoteId: 'r2' });
      expect(fixed.needsPerson.map((x) => x.key)).toEqual(['fresh']);
      expect((await consolidation.run({ repair: false })).leaked).toEqual([]);
    });

    describe('idempotency keys', () => {
      let now = 5_000_000;
      const clock: Clock = { now: () => now, sleep: async () => {} };
      const keys = () =>
        new IdempotencyKeys({
          dialect: t.store.driver.dialect,
          scope: uniqueName('orders'),
          ttlMs: 60_000,
          clock,
        });

      it('returns the first answer for the same key and request, and creates once', async () => {
        const k = keys();
        let created = 0;
        const claim = (body: unknown) =>
          t.store.transaction((tx) => k.claim(tx.sql, 'key-1', body, async () => ({ orderId: ++created })));
        expect(await claim({ customerId: 1, total: 1234 })).toEqual({
          value: { orderId: 1 },
          replayed: false,
        });
        // Key order in the body does not matter.
        expect(await claim({ total: 1234, customerId: 1 })).toEqual({
          value: { orderId: 1 },
          replayed: true,
        });
        expect(created).toBe(1);
      });

      it('refuses the same key with a different request with a typed error that maps to 422', async () => {
        const k = keys();
        await t.store.transaction((tx) => k.claim(tx.sql, 'key-2', { total: 1 }, async () => 7));
        const error = await t.store
          .transaction((tx) => k.claim(tx.sql, 'key-2', { total: 2 }, async () => 8))
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(IdempotencyKeyReusedError);
        expect(isConcordError(error, 'IDEMPOTENCY_KEY_REUSED')).toBe(true);
        expect((error as IdempotencyKeyReusedError).httpStatus).toBe(422);
        expect((error as Error).message).toContain('key-2');
      });

      it('forgets a key after its time to live', async () => {
        const k = keys();
        await t.store.transaction((tx) => k.claim(tx.sql, 'key-3', { total: 1 }, async () => 1));
        now += 59_999;
        expect(
          (await t.store.transaction((tx) => k.claim(tx.sql, 'key-3', { total: 1 }, async () => 2))).value,
        ).toBe(1);
        now += 2;
        expect(
          await t.store.transaction((tx) => k.claim(tx.sql, 'key-3', { total: 9 }, async () => 3)),
        ).toEqual({ value: 3, replayed: false });
        now += 60_001;
        expect(await t.store.transaction((tx) => k.purgeExpired(tx.sql))).toBe(1);
      });

      it('a rolled-back transaction does not keep the key', async () => {
        const k = keys();
        await expect(
          t.store.transaction(async (tx) => {
            await k.claim(tx.sql, 'key-4', { total: 1 }, async () => 1);
            throw new Error('rolled back');
          }),
        ).rejects.toThrow('rolled back');
        expect(
          (await t.store.transaction((tx) => k.claim(tx.sql, 'key-4', { total: 2 }, async () => 2))).value,
        ).toBe(2);
      });
    });
  });
}
