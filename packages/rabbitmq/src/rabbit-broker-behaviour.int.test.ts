import { ConcordErrorCode, silentLogger, type MessageEnvelope } from '@concord/core';
import { eventually, serviceAvailable, services, testEnvelope, uniqueName } from '@concord/core/testing';
import { connect } from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PartitionMismatchError,
  RabbitErrorReason,
  RabbitPublishRejectedError,
  openRabbitBroker,
  type RabbitBroker,
  type RabbitBrokerOptions,
} from './index.js';

const available = await serviceAvailable(services.rabbitmq);
const url = process.env.CONCORD_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const prefix = uniqueName('concord-test-behaviour');
const options: RabbitBrokerOptions = { url, prefix, memberTimeoutMs: 1_500, logger: silentLogger };

describe.skipIf(!available)('rabbitmq broker specifics', () => {
  const brokers: RabbitBroker[] = [];
  async function open(extra: Partial<RabbitBrokerOptions> = {}) {
    const broker = await openRabbitBroker({ ...options, ...extra });
    brokers.push(broker);
    return broker;
  }
  afterAll(async () => {
    const admin = await openRabbitBroker(options);
    // All members go before their streams do: a live reader of a deleted stream keeps retrying.
    for (const b of brokers) await b.close();
    for (const b of brokers) await admin.deleteTopology(b.usedTopology());
    await admin.close();
  });

  it('refuses a broker whose partition count differs from the channel’s', async () => {
    const channel = uniqueName('ch');
    const four = await open({ partitions: 4 });
    await four.publish([testEnvelope(channel, 'k', 0)]);
    expect(await four.partitionsOf(channel)).toBe(4);

    const eight = await open({ partitions: 8 });
    const publishing = eight.publish([testEnvelope(channel, 'k', 1)]);
    await expect(publishing).rejects.toBeInstanceOf(PartitionMismatchError);
    await expect(publishing).rejects.toMatchObject({ code: ConcordErrorCode.ILLEGAL_STATE, reason: RabbitErrorReason.PARTITION_MISMATCH, expected: 8, actual: 4 });
    await expect(eight.subscribe({ group: uniqueName('g'), channels: [channel], handler: async () => {} })).rejects.toBeInstanceOf(
      PartitionMismatchError,
    );
  });

  it('fails a publish to a stream deleted under it, then declares it again', async () => {
    const channel = uniqueName('ch');
    const broker = await open();
    await broker.publish([testEnvelope(channel, 'k', 0)]);
    const admin = await open();
    await admin.deleteChannel(channel);

    const again = broker.publish([testEnvelope(channel, 'k', 1)]);
    await expect(again).rejects.toBeInstanceOf(RabbitPublishRejectedError);
    await expect(again).rejects.toMatchObject({ code: ConcordErrorCode.UNAVAILABLE, reason: RabbitErrorReason.PUBLISH_REJECTED });
    await broker.publish([testEnvelope(channel, 'k', 2)]);

    const seen: number[] = [];
    await broker.subscribe({
      group: uniqueName('g'),
      channels: [channel],
      handler: async (b) => void seen.push(...b.messages.map((m) => (m.payload as { seq: number }).seq)),
    });
    await eventually(() => seen.length === 1);
    expect(seen).toEqual([2]);
  });

  it('close() waits for the batch in flight, commits it, and the next member resumes right after it', async () => {
    const channel = uniqueName('ch');
    const group = uniqueName('g');
    const broker = await open();
    const sent: MessageEnvelope[] = Array.from({ length: 10 }, (_, i) => testEnvelope(channel, 'one-key', i));
    await broker.publish(sent);

    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inFlight = false;
    const first: number[] = [];
    const subscription = await broker.subscribe({
      group,
      channels: [channel],
      maxBatchSize: 4,
      handler: async (batch) => {
        if (!inFlight) {
          inFlight = true;
          await gate;
        }
        first.push(...batch.messages.map((m) => (m.payload as { seq: number }).seq));
      },
    });
    await eventually(() => inFlight);
    let closed = false;
    const closing = subscription.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(closed).toBe(false);
    release();
    await closing;
    expect(first.length).toBeGreaterThan(0);
    expect(first).toEqual(Array.from({ length: first.length }, (_, i) => i));

    const second: number[] = [];
    const next = await (await open()).subscribe({
      group,
      channels: [channel],
      handler: async (b) => void second.push(...b.messages.map((m) => (m.payload as { seq: number }).seq)),
    });
    await eventually(() => first.length + second.length >= 10);
    await new Promise((r) => setTimeout(r, 200));
    expect([...first, ...second]).toEqual(Array.from({ length: 10 }, (_, i) => i));
    await next.close();
  });

  it('gives a group that subscribes late everything retained, and a second late group its own copy', async () => {
    const channel = uniqueName('ch');
    const broker = await open();
    await broker.publish(Array.from({ length: 30 }, (_, i) => testEnvelope(channel, `k-${i % 3}`, i)));
    const counts = [0, 0];
    for (const i of [0, 1]) {
      await broker.subscribe({ group: uniqueName(`late${i}`), channels: [channel], handler: async (b) => void (counts[i]! += b.messages.length) });
    }
    await eventually(() => counts[0] === 30 && counts[1] === 30);
  });

  it('uses lease queues that already exist with other arguments (as after an upgrade from RabbitMQ 3 to 4)', async () => {
    const channel = uniqueName('ch');
    const group = uniqueName('g');
    const broker = await open({ partitions: 2 });
    await broker.publish([testEnvelope(channel, 'a', 0), testEnvelope(channel, 'b', 0)]);
    const amqp = await connect(url);
    const ch = await amqp.createChannel();
    for (const p of [0, 1]) {
      await ch.assertQueue(broker.names.lease(group, channel, p), {
        durable: true,
        arguments: { 'x-queue-type': 'quorum', 'x-single-active-consumer': true, 'x-delivery-limit': 50 },
      });
    }
    await amqp.close();
    let got = 0;
    await broker.subscribe({ group, channels: [channel], handler: async (b) => void (got += b.messages.length) });
    await eventually(() => got === 2);
  });

  it('lets instances race to create a channel and join its group at the same moment', async () => {
    const channel = uniqueName('ch');
    const group = uniqueName('g');
    const instances = await Promise.all([open(), open(), open()]);
    const subscriptions = await Promise.all(instances.map((b) => b.subscribe({ group, channels: [channel], handler: async () => {} })));
    await eventually(() => subscriptions.every((s) => s.assignedPartitions().length >= 5), 20_000);
    const all = subscriptions.flatMap((s) => s.assignedPartitions());
    expect(new Set(all).size).toBe(16);
    expect(all).toHaveLength(16);
  });
});
