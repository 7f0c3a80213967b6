import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageConsumer } from '../consumer/message-consumer.js';
import { silentLogger } from '../logging.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import type { MessageEnvelope } from '../message/envelope.js';
import type { Broker } from '../ports/broker.js';
import type { Store } from '../ports/store.js';
import { defineEvent } from '../message/message-definition.js';
import { counterEvent, counterSchema } from './test-messages.js';
import { eventually, uniqueName } from './wait.js';

export interface MessagingUnderTest<H = unknown> {
  readonly store: Store<H>;
  readonly broker: Broker;
  cleanup(): Promise<void>;
}

const fastBackoff = { initialMs: 5, maxMs: 20, multiplier: 2, jitter: 0.2 };

/** A message of `definition`'s type whose payload fails its schema (`seq` is not a number). */
function badPayload(definition: { readonly type: string; readonly channel: string }): MessageEnvelope {
  return {
    id: uniqueName('bad'),
    type: definition.type,
    channel: definition.channel,
    partitionKey: 'k',
    headers: {},
    schemaVersion: 1,
    payload: { key: 'k', seq: 'not a number' },
    createdAt: Date.now(),
  };
}

/**
 * A message's whole life on one store and one broker: outbox → relay → broker → consumer
 * (inbox, retries, dead letters, replay). Run by each store and each broker adapter.
 */
export function describeMessagingConformance<H>(name: string, factory: () => Promise<MessagingUnderTest<H>>): void {
  describe(`Messaging conformance: ${name}`, () => {
    let sut: MessagingUnderTest<H>;
    let relay: OutboxRelay;
    const consumers: MessageConsumer<H>[] = [];

    beforeAll(async () => {
      sut = await factory();
      relay = new OutboxRelay({ store: sut.store, broker: sut.broker, logger: silentLogger, pollIntervalMs: 50 });
      relay.start();
    });
    afterAll(async () => {
      for (const c of consumers) await c.stop().catch(() => {});
      await relay?.stop();
      await sut?.cleanup();
    });

    function consumer(extra: { maxAttempts?: number } = {}) {
      const c = new MessageConsumer<H>({
        name: uniqueName('consumer'),
        store: sut.store,
        broker: sut.broker,
        logger: silentLogger,
        backoff: fastBackoff,
        ...extra,
      });
      consumers.push(c);
      return c;
    }

    it('applies each committed message once, even when the broker delivers it twice', async () => {
      const Counted = counterEvent(uniqueName('ch'));
      const effects: string[] = [];
      const c = consumer().handle(Counted, (tx, p) => tx.afterCommit(() => effects.push(`${p.key}:${p.seq}`)));
      await c.start();
      for (let i = 0; i < 5; i++) await sut.store.transaction((tx) => tx.outbox.send(Counted, { key: 'k', seq: i }));
      await eventually(() => effects.length === 5);
      // the relay crashing between publish and mark-sent looks exactly like this:
      const again = await sut.store.transaction((tx) => tx.outbox.send(Counted, { key: 'k', seq: 5 }));
      await sut.broker.publish([again, again]);
      await eventually(() => effects.length === 6);
      await new Promise((r) => setTimeout(r, 200));
      expect(effects).toEqual(['k:0', 'k:1', 'k:2', 'k:3', 'k:4', 'k:5']);
    });

    it('publishes nothing for a rolled-back transaction', async () => {
      const Counted = counterEvent(uniqueName('ch'));
      const effects: number[] = [];
      await consumer()
        .handle(Counted, (tx, p) => tx.afterCommit(() => effects.push(p.seq)))
        .start();
      await sut.store
        .transaction(async (tx) => {
          await tx.outbox.send(Counted, { key: 'k', seq: 1 });
          throw new Error('rolled back');
        })
        .catch(() => {});
      await sut.store.transaction((tx) => tx.outbox.send(Counted, { key: 'k', seq: 2 }));
      await eventually(() => effects.length === 1);
      await new Promise((r) => setTimeout(r, 200));
      expect(effects).toEqual([2]);
    });

    it('parks a poison message after N attempts while other partitions flow, and replays it once', async () => {
      const Counted = counterEvent(uniqueName('ch'));
      const effects: string[] = [];
      let fixed = false;
      let poisonAttempts = 0;
      const c = consumer({ maxAttempts: 3 }).handle(Counted, (tx, p) => {
        if (p.fail && !fixed) {
          poisonAttempts++;
          throw new Error(`cannot handle ${p.key}`);
        }
        tx.afterCommit(() => effects.push(`${p.key}:${p.seq}`));
      });
      await c.start();
      await sut.store.transaction(async (tx) => {
        await tx.outbox.send(Counted, { key: 'poison', seq: 0, fail: true });
        for (let i = 0; i < 10; i++) await tx.outbox.send(Counted, { key: `ok-${i}`, seq: 0 });
      });
      await eventually(() => effects.length === 10);
      const letters = await eventually(async () => {
        const l = await sut.store.deadLetters.list({ consumer: c.name });
        return l.length === 1 ? l : undefined;
      });
      expect(poisonAttempts).toBe(3);
      expect(letters[0]).toMatchObject({ attempts: 3, error: 'cannot handle poison' });
      expect(letters[0]!.stack).toContain('cannot handle poison');

      fixed = true;
      await sut.store.deadLetters.replay(letters[0]!.id);
      await eventually(() => effects.includes('poison:0'));
      await new Promise((r) => setTimeout(r, 200));
      expect(effects.filter((e) => e === 'poison:0')).toHaveLength(1);
      expect(await sut.store.deadLetters.list({ consumer: c.name })).toEqual([]);
    });

    it('sends a message whose payload fails the schema on receive to dead letters, no retries', async () => {
      const Counted = counterEvent(uniqueName('ch'));
      let calls = 0;
      const c = consumer({ maxAttempts: 5 }).handle(Counted, () => {
        calls++;
      });
      await c.start();
      await sut.store.transaction((tx) => tx.outbox.sendEnvelope(badPayload(Counted)));
      const letters = await eventually(async () => {
        const l = await sut.store.deadLetters.list({ consumer: c.name });
        return l.length === 1 ? l : undefined;
      });
      expect(letters[0]!.error).toContain('invalid payload for test.Counted on receive: seq: expected an integer');
      expect(letters[0]!.attempts).toBe(1);
      expect(calls).toBe(0);
    });

    it('leaves deduplication to an idempotent handler: no inbox row, and a redelivered bad payload is parked once', async () => {
      const Counted = counterEvent(uniqueName('ch'));
      const effects: number[] = [];
      const c = consumer().handle(Counted, (tx, p) => tx.afterCommit(() => effects.push(p.seq)), { idempotent: true });
      await c.start();
      const sent = await sut.store.transaction((tx) => tx.outbox.send(Counted, { key: 'k', seq: 1 }));
      await eventually(() => effects.length === 1);
      const rolledBack = new Error('only looking');
      const unrecorded = await sut.store
        .transaction(async (tx) => {
          const free = await tx.inbox.tryRecord(c.name, sent.id);
          throw Object.assign(rolledBack, { free });
        })
        .catch((error: { free?: boolean }) => error.free);
      expect(unrecorded).toBe(true);
      const bad = badPayload(Counted);
      await sut.store.transaction((tx) => tx.outbox.sendEnvelope(bad));
      await eventually(async () => (await sut.store.deadLetters.list({ consumer: c.name })).length === 1);
      // (a broker that deduplicates publishes by id, like JetStream, drops this copy itself)
      await sut.broker.publish([{ ...bad }]);
      const marker = await sut.store.transaction((tx) => tx.outbox.send(Counted, { key: 'k', seq: 2 }));
      await eventually(() => effects.includes(marker.payload.seq));
      expect((await sut.store.deadLetters.list({ consumer: c.name })).length).toBe(1);
    });

    it('parks a message of a type it has no handler for (UNKNOWN_MESSAGE_TYPE), skips declared ones, and replays it once handled', async () => {
      const Counted = counterEvent(uniqueName('ch'));
      const Newer = defineEvent('test.CountedV2', { channel: Counted.channel, schema: counterSchema, partitionKey: (p) => p.key });
      const Other = defineEvent('test.NotMine', { channel: Counted.channel, schema: counterSchema, partitionKey: (p) => p.key });
      const effects: number[] = [];
      const c = consumer()
        .handle(Counted, (tx, p) => tx.afterCommit(() => effects.push(p.seq)))
        .ignore(Other);
      await c.start();
      await sut.store.transaction(async (tx) => {
        await tx.outbox.send(Counted, { key: 'k', seq: 1 });
        await tx.outbox.send(Newer, { key: 'k', seq: 2 });
        await tx.outbox.send(Other, { key: 'k', seq: 3 });
        await tx.outbox.send(Counted, { key: 'k', seq: 4 });
      });
      await eventually(() => effects.length === 2);
      expect(effects).toEqual([1, 4]);
      const letters = await eventually(async () => {
        const l = await sut.store.deadLetters.list({ consumer: c.name });
        return l.length === 1 ? l : undefined;
      });
      expect(letters[0]!.message.type).toBe('test.CountedV2');
      expect(letters[0]!.error).toMatch(/^UNKNOWN_MESSAGE_TYPE: consumer .* has no handler for test.CountedV2/);

      // The next version of the consumer handles it: the replay reaches it once.
      await c.stop();
      const seen: number[] = [];
      const next = new MessageConsumer<H>({ name: c.name, store: sut.store, broker: sut.broker, logger: silentLogger, backoff: fastBackoff })
        .handle(Counted, () => undefined)
        .handle(Newer, (tx, p) => tx.afterCommit(() => seen.push(p.seq)))
        .ignore(Other);
      consumers.push(next);
      await next.start();
      await sut.store.deadLetters.replay(letters[0]!.id);
      await eventually(() => seen.length === 1);
      expect(seen).toEqual([2]);
    });
  });
}
