import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { call, callThrough, killed, pool, startShippingProcess, waitFor } from './shipping-client.js';

/**
 * `SHIPMENTS` shipments through a carrier losing 30 % of its answers while the service is
 * SIGKILLed twice, then a fifth of them cancelled under the same faults (one more SIGKILL).
 * The suite runs 200 (shipping-faults.e2e.test.ts); `npm run test:chaos` runs 500.
 */
export function describeShippingFaults(SHIPMENTS: number, PORT: number): void {
  const url = `http://127.0.0.1:${PORT}`;
  const carrierUrl = `http://127.0.0.1:${PORT + 1}`;
  const CANCELS = Math.round(SHIPMENTS / 5);
  const dir = mkdtempSync(join(tmpdir(), 'concord-shipping-faults-'));
  const env = {
    PORT: String(PORT),
    CONCORD_DATA_DIR: dir,
    CONCORD_CARRIER_LOSS: '0.3',
    CONCORD_ADMIN_TOKEN: 'ops:e2e-secret',
    CONCORD_CARRIER_TIMEOUT_MS: '2000',
    CONCORD_CONSOLIDATION_INTERVAL_MS: '0',
  };
  const admin = { Authorization: 'Bearer e2e-secret' };
  let child: ChildProcess | undefined;

  afterAll(async () => {
    if (child) await killed(child);
    rmSync(dir, { recursive: true, force: true });
  });

  type Label = { labelId: string; key: string; voided: boolean };
  const labels = async () => (await call(carrierUrl, 'GET', '/labels')).body.labels as Label[];

  /** SIGKILLs the service (its carrier child follows) once `when()` holds, then starts it again. */
  async function killAndRestartWhen(when: () => boolean): Promise<void> {
    await waitFor(async () => when(), 120_000, 'the moment to kill');
    await killed(child!);
    child = await startShippingProcess(env);
  }

  describe('shipping with a carrier losing 30 % of its answers and the service SIGKILLed', () => {
    const ids: number[] = [];

    it(`ends every one of ${SHIPMENTS} shipments LABEL_CREATED with exactly one label each, and no leak`, async () => {
      child = await startShippingProcess(env);
      let answered = 0;
      const creating = pool(
        Array.from({ length: SHIPMENTS }, (_, i) => i),
        16,
        async (i) => {
          // The client retries through the crashes with the same Idempotency-Key: never a second shipment.
          const r = await callThrough(
            url,
            'POST',
            '/shipments',
            { orderId: 1_000 + i },
            { 'Idempotency-Key': `order-${1_000 + i}` },
          );
          expect(r.status).toBe(200);
          answered++;
          ids[i] = r.body.shipmentId as number;
        },
      );
      await killAndRestartWhen(() => answered >= SHIPMENTS / 3);
      await killAndRestartWhen(() => answered >= (2 * SHIPMENTS) / 3);
      await creating;
      expect(new Set(ids).size).toBe(SHIPMENTS);

      const shipments = await waitFor(
        async () => {
          const all = await pool(ids, 16, async (id) => (await call(url, 'GET', `/shipments/${id}`)).body);
          return all.every((s) => s.state === 'LABEL_CREATED') && all;
        },
        120_000,
        'every shipment to be LABEL_CREATED',
      );

      const held = await labels();
      const byKey = new Map<string, Label[]>();
      for (const l of held) byKey.set(l.key, [...(byKey.get(l.key) ?? []), l]);
      expect(byKey.size).toBe(SHIPMENTS);
      for (const s of shipments) {
        const mine = byKey.get(`shipment-${s.shipmentId}`) ?? [];
        expect(mine.filter((l) => !l.voided).map((l) => l.labelId)).toEqual([s.labelId]);
      }
      const report = (await call(url, 'GET', '/admin/consolidation', undefined, admin)).body;
      expect(report.leaked).toEqual([]);
      expect(report.checked).toBe(SHIPMENTS);
    }, 300_000);

    it(`cancels ${CANCELS} of them under the same faults, voiding exactly their labels`, async () => {
      const cancelled = ids.slice(0, CANCELS);
      let answered = 0;
      const cancelling = pool(cancelled, 16, async (id) => {
        const r = await callThrough(url, 'POST', `/shipments/${id}/cancel`, {});
        expect(r.status).toBe(200);
        expect(['CANCEL_REQUESTED', 'CANCELLED']).toContain(r.body.state);
        answered++;
      });
      await killAndRestartWhen(() => answered >= CANCELS / 2);
      await cancelling;
      await waitFor(
        async () => {
          const all = await pool(
            cancelled,
            16,
            async (id) => (await call(url, 'GET', `/shipments/${id}`)).body.state as string,
          );
          return all.every((s) => s === 'CANCELLED');
        },
        120_000,
        'the cancelled shipments to be CANCELLED',
      );

      const voided = new Set(cancelled.map((id) => `shipment-${id}`));
      const held = await labels();
      expect(held).toHaveLength(SHIPMENTS);
      for (const l of held)
        expect({ key: l.key, voided: l.voided }).toEqual({ key: l.key, voided: voided.has(l.key) });
      const kept = await pool(
        ids.slice(CANCELS),
        16,
        async (id) => (await call(url, 'GET', `/shipments/${id}`)).body.state as string,
      );
      expect(new Set(kept)).toEqual(new Set(['LABEL_CREATED']));
      const report = (await call(url, 'GET', '/admin/consolidation', undefined, admin)).body;
      expect(report).toMatchObject({ leaked: [], stale: [] });
    }, 300_000);
  });
}
