import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MessageRejectedError } from '../errors.js';
import { newId } from '../ids.js';
import type { MessageEnvelope } from '../message/envelope.js';
import { partitionFor } from '../message/partition.js';
import type { Relay } from '../outbox/relay.js';
import type { Broker, BrokerCapabilities } from '../ports/broker.js';
import type { Store } from '../ports/store.js';
import type { SqlStore } from '../sql/sql-store.js';
import { OUTBOX_SHARDS } from '../sql/store-schema.js';
import { counterEvent } from './test-messages.js';
import { eventually, uniqueName } from './wait.js';

export interface RelayUnderTest {
  /** A store with an empty outbox of its own (database, schema or file). */
  readonly store: Store;
  /**
   * A new relay instance on `store`, as a freshly started process would run it, publishing to
   * `broker`. Give it small batches so a few hundred messages take several rounds.
   */
  relay(broker: Broker): Relay | Promise<Relay>;
  /**
   * Commits an outbox row of `channel` and `key` that cannot be decoded (see
   * `writeUndecodableOutboxRow`); returns its message id. Without it, that test is skipped.
   */
  writeUndecodable?(channel: string, key: string): Promise<string>;
  /** Closes the store and removes what the test created (relays are stopped already). */
  cleanup(): Promise<void>;
}

/** Commits an outbox row whose headers are not an object of strings, in a transaction of its own. */
export async function writeUndecodableOutboxRow(
  store: SqlStore,
  channel: string,
  key: string,
): Promise<string> {
  const id = newId();
  await store.driver.transaction((exec) =>
    exec.execute(
      `INSERT INTO ${store.driver.dialect.table('outbox')} (message_id, channel, message_type, partition_key, shard, headers, payload, schema_version, created_at) ` +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        id,
        channel,
        'test.Counted',
        key,
        partitionFor(key, OUTBOX_SHARDS),
        '[1]',
        JSON.stringify({ key, seq: -1 }),
        1,
        Date.now(),
      ],
    ),
  );
  return id;
}

/** A broker for a relay's set-up run (slot created, log bootstrapped) on an empty outbox: it must publish nothing. */
export const unusedBroker: Broker = {
  name: 'unused',
  capabilities: { partitionedConsumers: false, durable: true },
  publish: async () => {
    throw new Error('nothing is published while the relay is set up');
  },
  subscribe: async () => {
    throw new Error('the unused broker has no subscriptions');
  },
  close: async () => {},
};

/** A broker that keeps what it is given, in order, and refuses the messages it is told to. */
class RecordingBroker implements Broker {
  readonly name = 'recording';
  readonly capabilities: BrokerCapabilities;
  readonly published: MessageEnvelope[] = [];
  /** `key/seq` of the messages to refuse. */
  readonly refused = new Set<string>();
  delayMs = 0;
  /** Every this many publish calls, one fails for a while (as a lost connection does) and keeps nothing. */
  failEvery = 0;
  private calls = 0;

  /** `roundsInFlight` above 1: relays that can publish several rounds at once do (see BrokerCapabilities). */
  constructor(roundsInFlight = 1) {
    this.capabilities = { partitionedConsumers: false, durable: true, relayRoundsInFlight: roundsInFlight };
  }

  async publish(messages: readonly MessageEnvelope[]): Promise<void> {
    // Refused before anything of the call is kept, as real brokers do (decision 009).
    const bad = messages.find((m) => this.isRefused(m));
    if (bad) throw new MessageRejectedError(bad.id, 'refused by the test broker');
    const failing = this.failEvery > 0 && ++this.calls % this.failEvery === 0;
    // Random delays: calls in flight together finish out of order.
    const delay = this.delayMs > 0 ? this.delayMs * (0.5 + Math.random()) : 0;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (failing) throw new Error('the test broker lost its connection');
    this.published.push(...messages);
  }

  isRefused(m: MessageEnvelope): boolean {
    const { key, seq } = m.payload as { key: string; seq: number };
    return this.refused.has(`${key}/${seq}`);
  }

  subscribe(): never {
    throw new Error('the recording broker only records publishes');
  }

  async close(): Promise<void> {}

  ids(): Set<string> {
    return new Set(this.published.map((m) => m.id));
  }

  /** Every written message exactly once, and each key's in the order written. */
  expectExactlyOnceInOrder(written: readonly MessageEnvelope[]): void {
    const ids = this.published.map((m) => m.id);
    const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
    expect(twice, 'published more than once').toEqual([]);
    expect(new Set(ids)).toEqual(new Set(written.map((m) => m.id)));
    const seqs = new Map<string, number[]>();
    for (const m of this.published) {
      const { key, seq } = m.payload as { key: string; seq: number };
      seqs.set(key, [...(seqs.get(key) ?? []), seq]);
    }
    for (const [key, list] of seqs)
      expect(list, `order of key ${key}`).toEqual([...list].sort((a, b) => a - b));
  }
}

/**
 * The Relay contract, run by every relay (core's polling loop on each SQL store, and the
 * log-tailing relays): each written message is published exactly once, in per-key order,
 * across restarts; a refused message is parked and the rest flows; two instances never
 * publish a message twice; `stop()` lets what is in flight finish and publishes nothing after.
 */
export function describeRelayConformance(name: string, factory: () => Promise<RelayUnderTest>): void {
  describe(`Relay conformance: ${name}`, () => {
    let sut: RelayUnderTest;
    let running: Relay[] = [];

    beforeEach(async () => {
      sut = await factory();
      running = [];
    });
    afterEach(async () => {
      for (const r of running) await r.stop().catch(() => {});
      await sut?.cleanup();
    });

    async function start(broker: Broker): Promise<Relay> {
      const relay = await sut.relay(broker);
      running.push(relay);
      relay.start();
      return relay;
    }

    /** Writes `perKey` messages for each of `keys` keys, one transaction per seq, from `firstSeq`. */
    async function write(
      channel: string,
      keys: number,
      perKey: number,
      firstSeq = 0,
    ): Promise<MessageEnvelope[]> {
      const Counted = counterEvent(channel);
      const written: MessageEnvelope[] = [];
      for (let seq = firstSeq; seq < firstSeq + perKey; seq++) {
        await sut.store.transaction(async (tx) => {
          for (let k = 0; k < keys; k++)
            written.push(await tx.outbox.send(Counted, { key: `key-${k}`, seq }));
        });
      }
      return written;
    }

    /** Every written message published exactly once, in per-key order, and none left waiting. */
    async function expectAllPublishedOnce(
      broker: RecordingBroker,
      written: readonly MessageEnvelope[],
    ): Promise<void> {
      await eventually(() => broker.ids().size === written.length, 30_000);
      await eventually(async () => (await sut.store.outbox.lag()).count === 0, 10_000);
      broker.expectExactlyOnceInOrder(written);
    }

    /** Exactly these messages parked, each with the reason, and nothing else left waiting. */
    async function expectParkedAndFlowing(ids: readonly string[], reason: RegExp): Promise<void> {
      const parked = await eventually(async () => {
        const list = await sut.store.parkedOutbox.list();
        return list.length === ids.length ? list : undefined;
      }, 10_000);
      expect(parked.map((p) => p.messageId).sort()).toEqual([...ids].sort());
      for (const p of parked) expect(p.error).toMatch(reason);
      await eventually(async () => (await sut.store.outbox.lag()).count === 0, 10_000);
    }

    for (const rounds of [1, 3]) {
      const pipelined = rounds > 1 ? ' (a broker that asks for 3 rounds in flight)' : '';

      it(`publishes every message exactly once, in per-key order, across restarts${pipelined}`, async () => {
        const channel = uniqueName('restarts');
        const broker = new RecordingBroker(rounds);
        broker.delayMs = 5;
        const written = await write(channel, 4, 30);
        const first = await start(broker);
        await eventually(() => broker.published.length >= 10, 30_000);
        await first.stop();
        written.push(...(await write(channel, 4, 30, 30)));
        const second = await start(broker);
        await eventually(() => broker.ids().size >= 150, 30_000);
        await second.stop();
        written.push(...(await write(channel, 4, 30, 60)));
        await start(broker);
        await expectAllPublishedOnce(broker, written);
      });

      it(`retries a failed publish before anything behind it, so per-key order holds${pipelined}`, async () => {
        const channel = uniqueName('failing');
        const broker = new RecordingBroker(rounds);
        broker.delayMs = 4;
        broker.failEvery = 4;
        await start(broker);
        // Written while the relay runs, in many small commits: many rounds, some of them failing.
        const written = await write(channel, 16, 12);
        await expectAllPublishedOnce(broker, written);
      });
    }

    it('parks a message the broker refuses; the rest flows', async () => {
      const channel = uniqueName('refused');
      const broker = new RecordingBroker();
      broker.refused.add('key-0/2');
      broker.refused.add('key-1/6');
      const before = await write(channel, 2, 5);
      await start(broker);
      await eventually(() => broker.ids().size === before.length - 1, 30_000);
      // More while it runs, one refused too: the relay parks on every path it reads by.
      const after = await write(channel, 2, 5, 5);
      const written = [...before, ...after];
      const refused = written.filter((m) => broker.isRefused(m));
      await eventually(() => broker.ids().size === written.length - refused.length, 30_000);
      await expectParkedAndFlowing(
        refused.map((m) => m.id),
        /refused by the test broker/,
      );
      broker.expectExactlyOnceInOrder(written.filter((m) => !broker.isRefused(m)));
    });

    it('parks a row that cannot be decoded; the rest flows', async (context) => {
      if (!sut.writeUndecodable) return context.skip();
      const channel = uniqueName('undecodable');
      const broker = new RecordingBroker();
      const before = await write(channel, 1, 1);
      const bad = [await sut.writeUndecodable(channel, 'key-0')];
      await start(broker);
      await eventually(() => broker.ids().size === 1, 30_000);
      // Again while it runs: a relay may read it from the table or from a log.
      bad.push(await sut.writeUndecodable(channel, 'key-0'));
      const after = await write(channel, 1, 1, 1);
      await eventually(() => broker.ids().size === 2, 30_000);
      await expectParkedAndFlowing(bad, /headers/);
      broker.expectExactlyOnceInOrder([...before, ...after]);
    });

    it('two instances share the work without publishing a message twice', async () => {
      const channel = uniqueName('shared');
      const broker = new RecordingBroker();
      broker.delayMs = 2;
      await start(broker);
      await start(broker);
      const written = await write(channel, 8, 40);
      await expectAllPublishedOnce(broker, written);
    });

    it('stop lets the publish in flight finish, records it, and publishes nothing after', async () => {
      const channel = uniqueName('stop');
      const broker = new RecordingBroker();
      broker.delayMs = 50;
      const written = await write(channel, 4, 50);
      const relay = await start(broker);
      await eventually(() => broker.published.length > 0, 30_000, 5);
      await relay.stop();
      expect(relay.isRunning?.() ?? false).toBe(false);
      const count = broker.published.length;
      await new Promise((r) => setTimeout(r, 300));
      expect(broker.published.length).toBe(count);
      // What the broker took is recorded as sent; the rest is still waiting.
      expect((await sut.store.outbox.lag()).count).toBe(written.length - broker.ids().size);
      expect(broker.ids().size).toBeLessThan(written.length);
    });
  });
}
