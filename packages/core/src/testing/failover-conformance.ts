import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageEnvelope } from '../message/envelope.js';
import type { Broker, DeliveryBatch, Subscription } from '../ports/broker.js';
import { testEnvelope } from './broker-conformance.js';
import { eventually, uniqueName } from './wait.js';

export interface FailoverUnderTest {
  /** A broker instance with its own connections, as another process would have it. */
  open(): Promise<Broker>;
  /**
   * Kills `broker` as SIGKILL would: from now on none of its requests reach the server, and it
   * releases nothing. Its timers may go on failing quietly; `close` is still called at the end.
   */
  kill(broker: Broker): Promise<void>;
  /** The lease time of the brokers `open` returns: a takeover may take a few of these. */
  readonly leaseMs: number;
  /** Deletes the streams, queues or tables the test created. */
  cleanup(): Promise<void>;
}

const KEYS = 40;
const PER_KEY = 30;

/** First deliveries per key, and who made them. */
class Deliveries {
  readonly firsts = new Map<string, number[]>();
  readonly seen = new Set<string>();
  record(batch: DeliveryBatch, upTo = batch.messages.length): void {
    for (const m of batch.messages.slice(0, upTo)) {
      const { key, seq } = m.payload as { key: string; seq: number };
      if (this.seen.has(`${key}:${seq}`)) continue;
      this.seen.add(`${key}:${seq}`);
      this.firsts.set(key, [...(this.firsts.get(key) ?? []), seq]);
    }
  }
}

async function publishRange(broker: Broker, channel: string, from: number, to: number): Promise<void> {
  const all: MessageEnvelope[] = [];
  for (let seq = from; seq < to; seq++) for (let k = 0; k < KEYS; k++) all.push(testEnvelope(channel, `key-${k}`, seq));
  for (let i = 0; i < all.length; i += 200) await broker.publish(all.slice(i, i + 200));
}

/**
 * Broker failover, run by every broker adapter against its real server: a member of a consumer
 * group dies in the middle of a batch (handled in part, never acknowledged); another member
 * takes over its partitions once its leases expire, and delivers from the dead member's last
 * acknowledged position: no message is lost, and each key's first deliveries stay in order.
 */
export function describeBrokerFailoverConformance(name: string, factory: () => Promise<FailoverUnderTest>): void {
  describe(`Broker failover conformance: ${name}`, () => {
    let sut: FailoverUnderTest;
    const closers: Array<() => Promise<void>> = [];
    let release: () => void = () => undefined;

    beforeAll(async () => {
      sut = await factory();
    });
    afterAll(async () => {
      release(); // lets the dead member's stuck handler return, so its close can finish
      for (const close of closers.reverse()) {
        await Promise.race([close().catch(() => undefined), new Promise((r) => setTimeout(r, 5_000))]);
      }
      await sut?.cleanup();
    });

    it('a member dies mid-batch: another takes over its partitions, nothing is lost, each key stays in order', async () => {
      const channel = uniqueName('failover');
      const group = uniqueName('g');
      const publisher = await sut.open();
      closers.push(() => publisher.close());
      const doomed = await sut.open();
      closers.push(() => doomed.close());
      const survivor = await sut.open();
      closers.push(() => survivor.close());

      const deliveries = new Deliveries();
      let armed = false;
      let stuck!: () => void;
      const isStuck = new Promise<void>((r) => (stuck = r));
      const hang = new Promise<void>((r) => (release = r));
      const doomedSub: Subscription = await doomed.subscribe({
        group,
        channels: [channel],
        maxBatchSize: 16,
        handler: async (batch) => {
          if (!armed) return deliveries.record(batch);
          // Handled in part, never acknowledged: the process dies here.
          deliveries.record(batch, Math.floor(batch.messages.length / 2));
          stuck();
          await hang;
          throw new Error('this member is dead');
        },
      });
      const survivorSub = await survivor.subscribe({ group, channels: [channel], maxBatchSize: 16, handler: async (batch) => deliveries.record(batch) });
      await eventually(() => doomedSub.assignedPartitions().length > 0 && survivorSub.assignedPartitions().length > 0, 30_000);

      await publishRange(publisher, channel, 0, PER_KEY / 2);
      await eventually(() => deliveries.seen.size === (KEYS * PER_KEY) / 2, 30_000);

      armed = true;
      await publishRange(publisher, channel, PER_KEY / 2, PER_KEY);
      await isStuck;
      const orphaned = doomedSub.assignedPartitions();
      expect(orphaned.length).toBeGreaterThan(0);
      await sut.kill(doomed);

      await eventually(() => deliveries.seen.size === KEYS * PER_KEY, 30_000 + 5 * sut.leaseMs, 50);
      expect(deliveries.firsts.size).toBe(KEYS);
      for (const [, seqs] of deliveries.firsts) expect(seqs).toEqual(Array.from({ length: PER_KEY }, (_, i) => i));
      // The survivor now holds what the dead member held.
      await eventually(() => orphaned.every((p) => survivorSub.assignedPartitions().includes(p)), 30_000 + 5 * sut.leaseMs);
      await survivorSub.close();
    });
  });
}
