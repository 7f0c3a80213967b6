import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../ids.js';
import type { MessageEnvelope } from '../message/envelope.js';
import type { Broker, DeliveryBatch, Subscription } from '../ports/broker.js';
import { eventually, uniqueName } from './wait.js';

export interface BrokerUnderTest {
  readonly broker: Broker;
  /** A second connection/instance to the same broker, as another process would have. */
  readonly openPeer?: () => Promise<Broker>;
  /** Deletes the streams, queues or tables the test created. */
  cleanup(): Promise<void>;
}

export function testEnvelope(channel: string, key: string, seq: number, extra: Partial<MessageEnvelope> = {}): MessageEnvelope {
  return {
    id: newId(),
    type: 'test.Counted',
    channel,
    partitionKey: key,
    headers: { 'concord-correlation-id': 'c-1' },
    schemaVersion: 1,
    payload: { key, seq },
    createdAt: Date.now(),
    ...extra,
  };
}

/** Collects deliveries and checks that each key's first deliveries arrive in order. */
class Recorder {
  readonly seen = new Map<string, number[]>();
  readonly ids = new Set<string>();
  deliveries = 0;
  readonly handler = async (batch: DeliveryBatch) => {
    for (const m of batch.messages) {
      this.deliveries++;
      if (this.ids.has(m.id)) continue; // a redelivery: allowed, ignored like an inbox would
      this.ids.add(m.id);
      const { key, seq } = m.payload as { key: string; seq: number };
      const list = this.seen.get(key) ?? [];
      list.push(seq);
      this.seen.set(key, list);
    }
  };
  count() {
    return this.ids.size;
  }
  assertOrdered(keys: number, perKey: number) {
    expect(this.seen.size).toBe(keys);
    for (const [, seqs] of this.seen) expect(seqs).toEqual(Array.from({ length: perKey }, (_, i) => i));
  }
}

async function publishSpread(broker: Broker, channel: string, keys: number, perKey: number, firstSeq = 0, batch = 100) {
  const all: MessageEnvelope[] = [];
  for (let s = firstSeq; s < firstSeq + perKey; s++) for (let k = 0; k < keys; k++) all.push(testEnvelope(channel, `key-${k}`, s));
  for (let i = 0; i < all.length; i += batch) await broker.publish(all.slice(i, i + batch));
  return all;
}

/**
 * The Broker port's contract, run by every broker adapter against its real server. The
 * factory should configure short lease and poll timings so rebalances finish in seconds.
 */
export function describeBrokerConformance(name: string, factory: () => Promise<BrokerUnderTest>): void {
  describe(`Broker conformance: ${name}`, () => {
    let sut: BrokerUnderTest;
    const subscriptions: Subscription[] = [];
    const peers: Broker[] = [];

    beforeAll(async () => {
      sut = await factory();
    });
    afterAll(async () => {
      for (const s of subscriptions) await s.close().catch(() => {});
      for (const p of peers) await p.close().catch(() => {});
      await sut?.cleanup();
    });

    async function subscribe(broker: Broker, group: string, channels: string[], handler: (b: DeliveryBatch) => Promise<void>) {
      const s = await broker.subscribe({ group, channels, handler });
      subscriptions.push(s);
      return s;
    }

    it('delivers everything published, in order per partition key', async () => {
      const channel = uniqueName('ch');
      const rec = new Recorder();
      await publishSpread(sut.broker, channel, 8, 25);
      await subscribe(sut.broker, uniqueName('g'), [channel], rec.handler);
      await eventually(() => rec.count() === 200, 20_000);
      rec.assertOrdered(8, 25);
    });

    it('delivers messages published after the subscription started, promptly', async () => {
      const channel = uniqueName('ch');
      const rec = new Recorder();
      await subscribe(sut.broker, uniqueName('g'), [channel], rec.handler);
      const started = Date.now();
      await sut.broker.publish([testEnvelope(channel, 'k', 0)]);
      await eventually(() => rec.count() === 1, 10_000, 2);
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it('keeps the envelope intact', async () => {
      const channel = uniqueName('ch');
      const sent = testEnvelope(channel, 'k', 0, { headers: { a: '1', 'concord-correlation-id': 'xyz' }, schemaVersion: 3 });
      let got: MessageEnvelope | undefined;
      await subscribe(sut.broker, uniqueName('g'), [channel], async (b) => {
        got = b.messages[0];
      });
      await sut.broker.publish([sent]);
      await eventually(() => got);
      expect(got).toEqual(sent);
    });

    it('gives every group its own copy', async () => {
      const channel = uniqueName('ch');
      const a = new Recorder();
      const b = new Recorder();
      await subscribe(sut.broker, uniqueName('ga'), [channel], a.handler);
      await subscribe(sut.broker, uniqueName('gb'), [channel], b.handler);
      await publishSpread(sut.broker, channel, 4, 10);
      await eventually(() => a.count() === 40 && b.count() === 40, 20_000);
      a.assertOrdered(4, 10);
      b.assertOrdered(4, 10);
    });

    it('redelivers a batch the handler rejected, without breaking order', async () => {
      const channel = uniqueName('ch');
      const rec = new Recorder();
      let failuresLeft = 3;
      await subscribe(sut.broker, uniqueName('g'), [channel], async (batch) => {
        if (batch.messages.some((m) => (m.payload as { seq: number }).seq === 5) && failuresLeft-- > 0) {
          throw new Error('transient');
        }
        await rec.handler(batch);
      });
      await publishSpread(sut.broker, channel, 2, 10);
      await eventually(() => rec.count() === 20, 30_000);
      rec.assertOrdered(2, 10);
      expect(failuresLeft).toBeLessThanOrEqual(0);
    });

    it('shares partitions between two members of a group and rebalances when one leaves', async () => {
      const channel = uniqueName('ch');
      const group = uniqueName('g');
      const rec = new Recorder();
      const peer = sut.openPeer ? await sut.openPeer() : sut.broker;
      if (peer !== sut.broker) peers.push(peer);
      const first = await subscribe(sut.broker, group, [channel], rec.handler);
      const second = await subscribe(peer, group, [channel], rec.handler);
      await eventually(() => first.assignedPartitions().length > 0 && second.assignedPartitions().length > 0, 30_000);
      const overlap = first.assignedPartitions().filter((p) => second.assignedPartitions().includes(p));
      expect(overlap).toEqual([]);
      await publishSpread(sut.broker, channel, 16, 20);
      await eventually(() => rec.count() === 320, 30_000);
      await first.close();
      await publishSpread(sut.broker, channel, 16, 1, 20);
      // after the first member left, the second takes every partition and keeps order
      await eventually(() => rec.count() === 336, 30_000);
      expect(second.assignedPartitions().length).toBeGreaterThan(0);
      rec.assertOrdered(16, 21);
    });
  });
}
