import type { Broker, MessageEnvelope } from '@concord/core';
import { testEnvelope } from '@concord/core/testing';
import { nowMs, type Rate } from './stats.js';

export interface BrokerRateOptions<B extends Broker> {
  readonly open: () => Promise<B>;
  /** 2: publisher and consumer are separate instances (own connections), as two services are. */
  readonly instances: 1 | 2;
  /** Run on the publishing instance before it closes: deletes what the server keeps. */
  readonly cleanUp?: (broker: B) => Promise<void>;
  readonly channel: string;
  readonly group: string;
  readonly count: number;
  /** Envelopes per publish call, and the subscription's maximum batch. */
  readonly batch: number;
  readonly keys: number;
}

/**
 * A Concord broker alone: `count` envelopes published `batch` per call, one group consuming
 * them with a no-op handler; timed from the first publish to the last delivery.
 */
export async function measureBrokerRate<B extends Broker>(o: BrokerRateOptions<B>): Promise<Rate> {
  const publisher = await o.open();
  const consumer = o.instances === 2 ? await o.open() : publisher;
  try {
    const messages: MessageEnvelope[] = Array.from({ length: o.count }, (_, i) =>
      testEnvelope(o.channel, `key-${i % o.keys}`, i),
    );
    let handled = 0;
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    const subscription = await consumer.subscribe({
      group: o.group,
      channels: [o.channel],
      maxBatchSize: o.batch,
      handler: async (b) => {
        handled += b.messages.length;
        if (handled >= o.count) done();
      },
    });
    const started = nowMs();
    for (let i = 0; i < o.count; i += o.batch) await publisher.publish(messages.slice(i, i + o.batch));
    await all;
    const seconds = (nowMs() - started) / 1000;
    await subscription.close();
    return { perSec: o.count / seconds, seconds };
  } finally {
    await o.cleanUp?.(publisher);
    if (consumer !== publisher) await consumer.close();
    await publisher.close();
  }
}
