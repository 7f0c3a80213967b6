import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isConcordError } from '../errors.js';
import { silentLogger } from '../logging.js';
import { Reservations } from '../reservations/reservations.js';
import { DurableTimers } from '../timers/durable-timers.js';
import { ManualClock, type TimersUnderTest } from './timer-conformance.js';
import { uniqueName } from './wait.js';

/**
 * TCC reservations: try / confirm / cancel idempotent by id, expiry through a durable timer,
 * a late confirm refused with RESERVATION_EXPIRED, a cancel before its try blocking the try,
 * and no over-reservation under concurrent tries.
 */
export function describeReservationConformance(name: string, factory: () => Promise<TimersUnderTest>): void {
  describe(`Reservation conformance: ${name}`, () => {
    let sut: TimersUnderTest;
    let timers: DurableTimers;
    let reservations: Reservations;
    const clock = new ManualClock();

    beforeAll(async () => {
      sut = await factory();
      timers = new DurableTimers({ store: sut.store, clock, logger: silentLogger });
      reservations = new Reservations({ store: sut.store, timers, clock });
    });
    afterAll(() => sut?.cleanup());

    const tx = <T>(fn: Parameters<typeof sut.store.transaction<T>>[0]) => sut.store.transaction(fn);
    const counts = (pool: string) => sut.store.driver.run((exec) => reservations.pool(exec, pool));
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: unknown) => (isConcordError(e) ? e.code : String(e)),
      );

    it('try then confirm moves a quantity available -> reserved -> confirmed; both are idempotent', async () => {
      const pool = uniqueName('packets');
      await tx((t) => reservations.addStock(t, pool, 3));
      const r = await tx((t) => reservations.try(t, { reservationId: 'r1', pool, quantity: 2, ttlMs: 1_000, ref: 'order-1' }));
      expect(r).toMatchObject({ state: 'RESERVED', quantity: 2, ref: 'order-1' });
      expect(await tx((t) => reservations.try(t, { reservationId: 'r1', pool, quantity: 2, ttlMs: 1_000 }))).toMatchObject({ state: 'RESERVED' });
      expect(await counts(pool)).toMatchObject({ stock: 3, available: 1, reserved: 2, confirmed: 0 });
      await tx((t) => reservations.confirm(t, 'r1'));
      expect((await tx((t) => reservations.confirm(t, 'r1'))).state).toBe('CONFIRMED');
      expect(await counts(pool)).toMatchObject({ stock: 3, available: 1, reserved: 0, confirmed: 2 });
      // Confirmed: its expiry timer is gone, so nothing expires it later.
      expect((await timers.get('reservation:r1'))?.status).toBe('CANCELLED');
    });

    it('a try the pool cannot meet is refused with nothing held, and may be tried again later', async () => {
      const pool = uniqueName('packets');
      await tx((t) => reservations.addStock(t, pool, 1));
      expect(await code(tx((t) => reservations.try(t, { reservationId: `${pool}-x`, pool, quantity: 2, ttlMs: 1_000 })))).toBe('RESERVATION_UNAVAILABLE');
      await tx((t) => reservations.addStock(t, pool, 1));
      expect((await tx((t) => reservations.try(t, { reservationId: `${pool}-x`, pool, quantity: 2, ttlMs: 1_000 }))).state).toBe('RESERVED');
      expect(await code(tx((t) => reservations.try(t, { reservationId: 'nowhere', pool: uniqueName('none'), quantity: 1, ttlMs: 1_000 })))).toBe(
        'RESERVATION_UNAVAILABLE',
      );
    });

    it('an unconfirmed reservation expires through its timer and returns to the pool; a late confirm is refused', async () => {
      const pool = uniqueName('packets');
      await tx((t) => reservations.addStock(t, pool, 1));
      await tx((t) => reservations.try(t, { reservationId: `${pool}-late`, pool, quantity: 1, ttlMs: 500 }));
      clock.advance(500);
      // Due but not yet fired: the confirm is refused all the same.
      expect(await code(tx((t) => reservations.confirm(t, `${pool}-late`)))).toBe('RESERVATION_EXPIRED');
      await timers.fireDue();
      expect(await counts(pool)).toMatchObject({ available: 1, reserved: 0, confirmed: 0 });
      expect(await code(tx((t) => reservations.confirm(t, `${pool}-late`)))).toBe('RESERVATION_EXPIRED');
      const r = await sut.store.driver.run((exec) => reservations.get(exec, `${pool}-late`));
      expect(r?.state).toBe('EXPIRED');
    });

    it('a cancel that arrives before its try blocks the try (hanging protection); cancel is idempotent', async () => {
      const pool = uniqueName('packets');
      await tx((t) => reservations.addStock(t, pool, 1));
      expect((await tx((t) => reservations.cancel(t, `${pool}-h`))).state).toBe('CANCELLED');
      expect((await tx((t) => reservations.cancel(t, `${pool}-h`))).state).toBe('CANCELLED');
      expect(await code(tx((t) => reservations.try(t, { reservationId: `${pool}-h`, pool, quantity: 1, ttlMs: 1_000 })))).toBe('RESERVATION_CANCELLED');
      expect(await counts(pool)).toMatchObject({ available: 1, reserved: 0 });
      // A normal cancel after a try gives the quantity back; a confirm after it is refused.
      await tx((t) => reservations.try(t, { reservationId: `${pool}-c`, pool, quantity: 1, ttlMs: 1_000 }));
      await tx((t) => reservations.cancel(t, `${pool}-c`));
      expect(await counts(pool)).toMatchObject({ available: 1, reserved: 0 });
      expect(await code(tx((t) => reservations.confirm(t, `${pool}-c`)))).toBe('RESERVATION_CANCELLED');
    });

    it('item pools: any free item or a named one; release gives a confirmed item back', async () => {
      const pool = uniqueName('agents');
      await tx((t) => reservations.addItems(t, pool, ['ann', 'bob']));
      const a = await tx((t) => reservations.try(t, { reservationId: `${pool}-1`, pool, anyItem: true, ttlMs: 1_000, ref: 'o1' }));
      expect(a.itemId).toBe('ann');
      expect(await code(tx((t) => reservations.try(t, { reservationId: `${pool}-2`, pool, item: 'ann', ttlMs: 1_000 })))).toBe('RESERVATION_UNAVAILABLE');
      const b = await tx((t) => reservations.try(t, { reservationId: `${pool}-3`, pool, item: 'bob', ttlMs: 1_000 }));
      expect(b.itemId).toBe('bob');
      await tx((t) => reservations.confirm(t, `${pool}-1`));
      expect(await sut.store.driver.run((exec) => reservations.item(exec, pool, 'ann'))).toMatchObject({ state: 'CONFIRMED', reservationId: `${pool}-1` });
      expect(await code(tx((t) => reservations.cancel(t, `${pool}-1`)))).toBe('ILLEGAL_STATE');
      expect((await tx((t) => reservations.release(t, `${pool}-1`))).state).toBe('RELEASED');
      expect(await sut.store.driver.run((exec) => reservations.item(exec, pool, 'ann'))).toMatchObject({ state: 'AVAILABLE', reservationId: null });
      expect(await counts(pool)).toMatchObject({ stock: 2, available: 1, reserved: 1, confirmed: 0 });
    });

    it('concurrent tries never reserve more than the pool holds', async () => {
      const pool = uniqueName('packets');
      const agents = uniqueName('agents');
      await tx((t) => reservations.addStock(t, pool, 10));
      await tx((t) => reservations.addItems(t, agents, ['a1', 'a2', 'a3']));
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          Promise.all([
            code(tx((t) => reservations.try(t, { reservationId: `${pool}-${i}`, pool, quantity: 1, ttlMs: 1_000 }))),
            code(tx((t) => reservations.try(t, { reservationId: `${agents}-${i}`, pool: agents, anyItem: true, ttlMs: 1_000 }))),
          ]),
        ),
      );
      expect(results.filter(([p]) => p === 'ok')).toHaveLength(10);
      expect(results.filter(([, a]) => a === 'ok')).toHaveLength(3);
      expect(await counts(pool)).toMatchObject({ stock: 10, available: 0, reserved: 10 });
      expect(await counts(agents)).toMatchObject({ stock: 3, available: 0, reserved: 3 });
    });
  });
}
