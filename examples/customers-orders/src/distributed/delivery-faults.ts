/**
 * A fault-injecting wrapper around a real broker, for the chaos campaign only: switched on in
 * a service process by CONCORD_CHAOS_DELIVERY=<probability> (e.g. 0.05), off otherwise.
 *
 * What it does is what a real broker may do under at-least-once delivery, and nothing that
 * would lose a message on its own:
 * - publish: shuffles the messages of a publish call (breaking per-key order) and publishes
 *   some of them twice, as a relay does when it crashes between publish and mark-sent;
 * - deliver: hands a batch to the handler reversed, and replays a message it has already
 *   handled (and acknowledged) inside a later batch of the same partition: a late duplicate
 *   that arrives after newer messages. A replayed message was handled once already, so a
 *   process killed while holding it loses nothing.
 *
 * The handler is still called serially per partition, as the broker port promises. Counts go
 * to CONCORD_CHAOS_COUNTS_DIR (a JSON file per process, rewritten every second) so the campaign
 * can report them; a SIGKILLed process loses at most its last second of counts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Broker, MessageEnvelope } from '@concord/core';
import type { DeliveryBatch, SubscribeOptions, Subscription } from '@concord/core/spi';

export interface DeliveryFaultCounts {
  /** Messages published twice. */
  publishDuplicates: number;
  /** Publish calls whose messages were sent in a different order. */
  publishReorders: number;
  /** Already handled messages delivered again in a later batch. */
  deliveryDuplicates: number;
  /** Batches handed over in reversed order. */
  deliveryReorders: number;
}

export interface DeliveryFaultOptions {
  /** Chance of each fault at each opportunity, 0..1. */
  readonly probability: number;
  readonly random?: () => number;
}

export class DeliveryFaultBroker implements Broker {
  readonly counts: DeliveryFaultCounts = { publishDuplicates: 0, publishReorders: 0, deliveryDuplicates: 0, deliveryReorders: 0 };
  private readonly random: () => number;

  constructor(
    private readonly inner: Broker,
    private readonly options: DeliveryFaultOptions,
  ) {
    this.random = options.random ?? Math.random;
  }

  get name(): string {
    return this.inner.name;
  }

  get capabilities(): Broker['capabilities'] {
    return this.inner.capabilities;
  }

  private chance(): boolean {
    return this.random() < this.options.probability;
  }

  async publish(messages: readonly MessageEnvelope[]): Promise<void> {
    let out = [...messages];
    if (out.length > 1 && this.chance()) {
      out = shuffled(out, this.random);
      if (out.some((m, i) => m !== messages[i])) this.counts.publishReorders++;
    }
    const twice = out.filter(() => this.chance());
    this.counts.publishDuplicates += twice.length;
    await this.inner.publish([...out, ...twice]);
  }

  subscribe(options: SubscribeOptions): Promise<Subscription> {
    // Per partition: messages handled already, some of which come back later.
    const handled = new Map<string, MessageEnvelope[]>();
    const handler = async (batch: DeliveryBatch): Promise<void> => {
      const key = `${batch.channel}/${batch.partition}`;
      let messages = [...batch.messages];
      if (messages.length > 1 && this.chance()) {
        messages.reverse();
        this.counts.deliveryReorders++;
      }
      const past = handled.get(key) ?? [];
      if (past.length > 0 && this.chance()) {
        const replay = past[Math.floor(this.random() * past.length)]!;
        messages = [...messages, replay];
        this.counts.deliveryDuplicates++;
      }
      await options.handler({ ...batch, messages });
      // Remember a few handled messages of this partition (bounded) for later replays.
      past.push(...batch.messages.slice(-4));
      handled.set(key, past.slice(-16));
    };
    return this.inner.subscribe({ ...options, handler });
  }

  /** Readiness checks go to the real broker. */
  async ping(): Promise<void> {
    await this.inner.ping?.();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function shuffled<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Wraps `broker` when CONCORD_CHAOS_DELIVERY is set; writes counts to a file per process in CONCORD_CHAOS_COUNTS_DIR. */
export function withDeliveryFaults(broker: Broker, env: NodeJS.ProcessEnv = process.env): Broker {
  const probability = Number(env.CONCORD_CHAOS_DELIVERY ?? 0);
  if (!(probability > 0)) return broker;
  if (probability > 1) throw new RangeError(`CONCORD_CHAOS_DELIVERY must be a probability in 0..1, got "${env.CONCORD_CHAOS_DELIVERY}"`);
  const faulty = new DeliveryFaultBroker(broker, { probability });
  const dir = env.CONCORD_CHAOS_COUNTS_DIR;
  if (dir) {
    const file = join(dir, `${env.SERVICE ?? 'process'}-${env.INSTANCE ?? '1'}-${process.pid}.json`);
    const write = () => writeFileSync(file, JSON.stringify(faulty.counts));
    setInterval(write, 1_000).unref();
    process.once('exit', write);
  }
  return faulty;
}
