/**
 * The chaos campaign's delivery-fault wrapper over a real (SQLite) broker: it duplicates and
 * reorders, but never loses a message and never calls the handler twice at once per partition.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@concord/core';
import type { DeliveryBatch } from '@concord/core/spi';
import { testEnvelope } from '@concord/core/testing';
import { openSqliteBroker } from '@concord/sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryFaultBroker, withDeliveryFaults } from '../src/distributed/delivery-faults.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

async function sqliteBroker() {
  const dir = mkdtempSync(join(tmpdir(), 'delivery-faults-'));
  dirs.push(dir);
  return openSqliteBroker({ filename: join(dir, 'broker.db'), logger: silentLogger, pollIntervalMs: 10 });
}

describe('DeliveryFaultBroker', () => {
  it('duplicates and reorders every message it may, loses none, and keeps one handler call at a time per partition', async () => {
    const faulty = new DeliveryFaultBroker(await sqliteBroker(), { probability: 1 });
    const sent = Array.from({ length: 20 }, (_, i) => testEnvelope('chaos.test', 'one-key', i));
    const seen: number[] = [];
    let inHandler = 0;
    let overlapped = false;
    const sub = await faulty.subscribe({
      group: 'g',
      channels: ['chaos.test'],
      handler: async (batch: DeliveryBatch) => {
        overlapped ||= ++inHandler > 1;
        await new Promise((r) => setTimeout(r, 5));
        for (const m of batch.messages) seen.push((m.payload as { seq: number }).seq);
        inHandler--;
      },
    });
    for (let i = 0; i < sent.length; i += 5) await faulty.publish(sent.slice(i, i + 5));
    const deadline = Date.now() + 20_000;
    while (new Set(seen).size < sent.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await sub.close();
    await faulty.close();

    expect(new Set(seen)).toEqual(new Set(sent.map((_, i) => i)));
    expect(seen.length).toBeGreaterThan(sent.length); // duplicates came
    expect(seen).not.toEqual([...seen].sort((a, b) => a - b)); // and not in order
    expect(overlapped).toBe(false);
    expect(faulty.counts.publishDuplicates).toBe(sent.length);
    expect(faulty.counts.publishReorders + faulty.counts.deliveryReorders).toBeGreaterThan(0);
    expect(faulty.counts.deliveryDuplicates).toBeGreaterThan(0);
  });

  it('is off unless CONCORD_CHAOS_DELIVERY is set, and refuses a probability above 1', async () => {
    const broker = await sqliteBroker();
    expect(withDeliveryFaults(broker, {})).toBe(broker);
    expect(withDeliveryFaults(broker, { CONCORD_CHAOS_DELIVERY: '0' })).toBe(broker);
    expect(withDeliveryFaults(broker, { CONCORD_CHAOS_DELIVERY: '0.1' })).toBeInstanceOf(DeliveryFaultBroker);
    expect(() => withDeliveryFaults(broker, { CONCORD_CHAOS_DELIVERY: '2' })).toThrow(/probability/);
    await broker.close();
  });
});
