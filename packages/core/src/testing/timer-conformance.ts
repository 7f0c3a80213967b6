import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../logging.js';
import type { Clock } from '../ports/clock.js';
import type { SqlStore } from '../sql/sql-store.js';
import { DurableTimers, type DurableTimersOptions } from '../timers/durable-timers.js';
import { uniqueName } from './wait.js';

export interface TimersUnderTest {
  readonly store: SqlStore;
  cleanup(): Promise<void>;
}

/** A clock the test moves by hand, so leases and due times never depend on the machine's speed. */
export class ManualClock implements Clock {
  constructor(public time = 1_700_000_000_000) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.min(ms, 5));
      signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
}

/**
 * Durable timers: scheduled in the caller's transaction, idempotent by id, cancellable, fired
 * exactly once with the handler in the firing transaction, and fenced against a late instance.
 * Run by each store adapter against its real server.
 */
export function describeTimerConformance(name: string, factory: () => Promise<TimersUnderTest>): void {
  describe(`Timer conformance: ${name}`, () => {
    let sut: TimersUnderTest;
    let effects: string;
    const clock = new ManualClock();
    const kind = uniqueName('test.timer');

    beforeAll(async () => {
      sut = await factory();
      const d = sut.store.driver.dialect;
      effects = d.table(uniqueName('timer_effects').toLowerCase());
      await sut.store.driver.run((exec) =>
        exec.execute(`CREATE TABLE ${effects} (timer_id ${d.types.key} NOT NULL, fired_by ${d.types.key} NOT NULL)`),
      );
    });
    afterAll(async () => {
      await sut?.store.driver.run((exec) => exec.execute(`DROP TABLE ${effects}`)).catch(() => undefined);
      await sut?.cleanup();
    });

    function runtime(instanceId: string, options: Partial<DurableTimersOptions<unknown>> = {}, fail?: (id: string) => boolean) {
      return new DurableTimers({ store: sut.store, instanceId, clock, leaseMs: 1_000, logger: silentLogger, backoff: { initialMs: 10, maxMs: 10, multiplier: 1, jitter: 0 }, ...options }).handle(
        kind,
        async (tx, timer) => {
          await tx.sql.execute(`INSERT INTO ${effects} (timer_id, fired_by) VALUES (?, ?)`, [timer.id, instanceId]);
          if (fail?.(timer.id)) throw new Error(`handler of ${timer.id} fails`);
        },
      );
    }
    const firedCount = async (id: string) =>
      Number((await sut.store.driver.run((exec) => exec.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${effects} WHERE timer_id = ?`, [id])))[0]!.n);

    it('schedules in the caller transaction: a rollback leaves no timer', async () => {
      const timers = runtime('a');
      const id = uniqueName('t');
      await expect(
        sut.store.transaction(async (tx) => {
          await timers.schedule(tx, { id, kind, at: clock.now() });
          throw new Error('business change failed');
        }),
      ).rejects.toThrow('business change failed');
      expect(await timers.get(id)).toBeUndefined();
    });

    it('is idempotent by id and fires only when due', async () => {
      const timers = runtime('a');
      const id = uniqueName('t');
      expect(await sut.store.transaction((tx) => timers.schedule(tx, { id, kind, at: clock.now() + 5_000, payload: { n: 1 } }))).toBe(true);
      expect(await sut.store.transaction((tx) => timers.schedule(tx, { id, kind, at: clock.now(), payload: { n: 2 } }))).toBe(false);
      expect((await timers.fireDue()).fired).toBe(0);
      clock.advance(5_000);
      const round = await timers.fireDue();
      expect(round.fired).toBe(1);
      expect(await firedCount(id)).toBe(1);
      const view = await timers.get(id);
      expect(view).toMatchObject({ status: 'FIRED', payload: { n: 1 }, attempts: 1 });
      expect((await timers.fireDue()).fired).toBe(0);
    });

    it('a cancelled timer never fires; cancel reports whether it stopped one', async () => {
      const timers = runtime('a');
      const id = uniqueName('t');
      await sut.store.transaction((tx) => timers.schedule(tx, { id, kind, at: clock.now() }));
      expect(await sut.store.transaction((tx) => timers.cancel(tx, id))).toBe(true);
      expect(await sut.store.transaction((tx) => timers.cancel(tx, id))).toBe(false);
      await timers.fireDue();
      expect(await firedCount(id)).toBe(0);
      expect((await timers.get(id))?.status).toBe('CANCELLED');
    });

    it('a failing handler rolls back its effect and the FIRED mark; the retry fires once', async () => {
      let failures = 1;
      const timers = runtime('a', {}, () => failures-- > 0);
      const id = uniqueName('t');
      await sut.store.transaction((tx) => timers.schedule(tx, { id, kind, at: clock.now() }));
      expect((await timers.fireDue()).failed).toBe(1);
      expect(await firedCount(id)).toBe(0);
      expect(await timers.get(id)).toMatchObject({ status: 'SCHEDULED', attempts: 1, lastError: `handler of ${id} fails` });
      clock.advance(10);
      expect((await timers.fireDue()).fired).toBe(1);
      expect(await firedCount(id)).toBe(1);
    });

    it('past its attempts a timer is FAILED and stays listed', async () => {
      const timers = runtime('a', { maxAttempts: 2 }, () => true);
      const id = uniqueName('t');
      await sut.store.transaction((tx) => timers.schedule(tx, { id, kind, at: clock.now() }));
      await timers.fireDue();
      clock.advance(10);
      await timers.fireDue();
      expect(await timers.get(id)).toMatchObject({ status: 'FAILED', attempts: 2 });
      expect((await timers.list({ status: 'FAILED', kind })).map((t) => t.id)).toContain(id);
    });

    it('fencing: an instance whose lease was taken over cannot fire the timer', async () => {
      const a = runtime('paused');
      const b = runtime('live');
      const id = uniqueName('t');
      await sut.store.transaction((tx) => a.schedule(tx, { id, kind, at: clock.now() }));
      const held = (await a.claimDue()).filter((t) => t.id === id);
      expect(held).toHaveLength(1);
      // While A's lease runs, B cannot take the timer.
      expect((await b.claimDue()).some((t) => t.id === id)).toBe(false);
      // A stalls past its lease (a GC pause, a frozen VM); B takes over and fires.
      clock.advance(1_001);
      expect((await b.fireDue()).fired).toBe(1);
      // A wakes up and tries to fire with its old fencing token: refused, no second effect.
      expect(await a.fire(held[0]!)).toBe('fenced');
      expect(await firedCount(id)).toBe(1);
      expect((await a.get(id))?.fence).toBe(2);
    });

    it('two instances firing the same 200 due timers at once fire each exactly once', async () => {
      const a = runtime('a', { batchSize: 30, concurrency: 3 });
      const b = runtime('b', { batchSize: 30, concurrency: 3 });
      const ids = Array.from({ length: 200 }, (_, i) => `${uniqueName('many')}-${i}`);
      await sut.store.transaction(async (tx) => {
        for (const id of ids) await a.schedule(tx, { id, kind, at: clock.now() });
      });
      for (;;) {
        const [ra, rb] = await Promise.all([a.fireDue(), b.fireDue()]);
        if (ra.claimed + rb.claimed === 0) break;
      }
      const rows = await sut.store.driver.run((exec) =>
        exec.query<{ timer_id: string; n: number | string }>(
          `SELECT timer_id, COUNT(*) AS n FROM ${effects} WHERE timer_id IN (${ids.map(() => '?').join(', ')}) GROUP BY timer_id`,
          ids,
        ),
      );
      expect(rows).toHaveLength(200);
      expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
    });

    it('the running loop fires a timer scheduled in this process when it is due', async () => {
      const timers = runtime('loop', { pollIntervalMs: 50 });
      timers.start();
      try {
        const id = uniqueName('t');
        await sut.store.transaction((tx) => timers.schedule(tx, { id, kind, at: clock.now() }));
        const deadline = Date.now() + 10_000;
        while ((await firedCount(id)) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        expect(await firedCount(id)).toBe(1);
      } finally {
        await timers.stop();
      }
    });
  });
}
