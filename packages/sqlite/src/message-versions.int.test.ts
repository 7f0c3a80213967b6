import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEvent, MessageConsumer, OutboxRelay, silentLogger, upcastFrom } from '@concord/core';
import { eventually, uniqueName } from '@concord/core/testing';
import { openSqliteBroker, openSqliteStore } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'concord-versions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A rolling deploy: the producer still runs v1 (amount in euros), the consumer already runs
 * v2 (amount in cents, with the v1 -> v2 upcaster), and a v3 producer is already out somewhere.
 * The three definitions share type and channel, as three builds of one contracts module would.
 */
const channel = uniqueName('payments');
const PaymentTakenV1 = defineEvent('pay.PaymentTaken', { channel, schema: z.object({ paymentId: z.string(), euros: z.number() }) });
const v2Schema = z.object({ paymentId: z.string(), cents: z.number().int() });
const PaymentTakenV2 = defineEvent('pay.PaymentTaken', {
  channel,
  schema: v2Schema,
  versions: upcastFrom(PaymentTakenV1.schema).then((v1) => ({ paymentId: v1.paymentId, cents: Math.round(v1.euros * 100) })),
});
const PaymentTakenV3 = defineEvent('pay.PaymentTaken', {
  channel,
  schema: z.object({ paymentId: z.string(), cents: z.number().int(), currency: z.string() }),
  versions: upcastFrom(PaymentTakenV1.schema)
    .then((v1) => ({ paymentId: v1.paymentId, cents: Math.round(v1.euros * 100) }))
    .then((v2) => ({ ...v2, currency: 'EUR' })),
});

describe('message versions across a rolling deploy (SQLite store and broker)', () => {
  it('a v2 consumer reads v1 and v2 payloads and parks a v3 one with the reason, acking nothing silently', async () => {
    const broker = await openSqliteBroker({ filename: join(dir, 'broker.db'), logger: silentLogger, pollIntervalMs: 20 });
    const producer = await openSqliteStore({ filename: join(dir, 'producer.db'), logger: silentLogger });
    const consumerStore = await openSqliteStore({ filename: join(dir, 'consumer.db'), logger: silentLogger });
    const seen: Array<{ paymentId: string; cents: number; version: number }> = [];
    const consumer = new MessageConsumer({ name: 'ledger', store: consumerStore, broker, logger: silentLogger }).handle(
      PaymentTakenV2,
      (_tx, payment, message) => void seen.push({ ...payment, version: message.schemaVersion }),
    );
    const relay = new OutboxRelay({ store: producer, broker, logger: silentLogger, pollIntervalMs: 20 });
    try {
      await consumer.start();
      relay.start();
      // One partition key, so the four arrive in the order they were sent.
      const same = { partitionKey: 'shop-1' };
      await producer.transaction(async (tx) => {
        await tx.outbox.send(PaymentTakenV1, { paymentId: 'p1', euros: 12.34 }, same);
        await tx.outbox.send(PaymentTakenV2, { paymentId: 'p2', cents: 500 }, same);
        await tx.outbox.send(PaymentTakenV3, { paymentId: 'p3', cents: 700, currency: 'GBP' }, same);
        await tx.outbox.send(PaymentTakenV1, { paymentId: 'p4', euros: 1 }, same);
      });
      const letters = await eventually(async () => {
        const parked = await consumerStore.deadLetters.list({ consumer: 'ledger' });
        return seen.length === 3 && parked.length === 1 ? parked : undefined;
      });
      expect(seen).toEqual([
        { paymentId: 'p1', cents: 1234, version: 1 },
        { paymentId: 'p2', cents: 500, version: 2 },
        { paymentId: 'p4', cents: 100, version: 1 },
      ]);
      expect(letters[0]!.error).toBe('schemaVersion 3 is newer than this consumer knows (2) for pay.PaymentTaken');
      expect(letters[0]!.message.payload).toEqual({ paymentId: 'p3', cents: 700, currency: 'GBP' });
      expect(letters[0]!.message.schemaVersion).toBe(3);
    } finally {
      await relay.stop();
      await consumer.stop();
      await producer.close();
      await consumerStore.close();
      await broker.close();
    }
  });

  it('once the consumer runs v3, replaying the parked letter applies it', async () => {
    const broker = await openSqliteBroker({ filename: join(dir, 'broker.db'), logger: silentLogger, pollIntervalMs: 20 });
    const consumerStore = await openSqliteStore({ filename: join(dir, 'consumer.db'), logger: silentLogger });
    const seen: Array<{ paymentId: string; currency: string }> = [];
    const consumer = new MessageConsumer({ name: 'ledger', store: consumerStore, broker, logger: silentLogger }).handle(
      PaymentTakenV3,
      (_tx, payment) => void seen.push({ paymentId: payment.paymentId, currency: payment.currency }),
    );
    const relay = new OutboxRelay({ store: consumerStore, broker, logger: silentLogger, pollIntervalMs: 20 });
    try {
      await consumer.start();
      relay.start();
      const [letter] = await consumerStore.deadLetters.list({ consumer: 'ledger' });
      await consumerStore.deadLetters.replay(letter!.id);
      await eventually(() => seen.length === 1);
      expect(seen).toEqual([{ paymentId: 'p3', currency: 'GBP' }]);
    } finally {
      await relay.stop();
      await consumer.stop();
      await consumerStore.close();
      await broker.close();
    }
  });
});
