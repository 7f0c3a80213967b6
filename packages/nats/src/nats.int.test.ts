import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClosedError, InvalidArgumentError, silentLogger } from '@concord/core';
import {
  describeBrokerConformance,
  describeMessagingConformance,
  serviceAvailable,
  services,
  testEnvelope,
  uniqueName,
} from '@concord/core/testing';
import { openSqliteStore } from '@concord/sqlite';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNatsBrokerError, NatsConnectionError, openNatsBroker, type NatsBroker, type NatsBrokerOptions } from './index.js';

const available = await serviceAvailable(services.nats);
const servers = '127.0.0.1:4222';

function testPrefix(name: string): string {
  return `t-${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

const timings: Partial<NatsBrokerOptions> = { leaseMs: 1_000, pullExpiresMs: 1_000, logger: silentLogger };

if (available) {
  describeBrokerConformance('nats jetstream', async () => {
    const options = { servers, streamPrefix: testPrefix('conf'), ...timings };
    const broker = await openNatsBroker(options);
    return {
      broker,
      openPeer: () => openNatsBroker(options),
      cleanup: async () => {
        await broker.deleteStreams();
        await broker.close();
      },
    };
  });

  describeMessagingConformance('sqlite store + nats jetstream', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'concord-nats-'));
    const store = await openSqliteStore({ filename: join(dir, 'service.db') });
    const broker = await openNatsBroker({ servers, streamPrefix: testPrefix('msg'), ...timings });
    return {
      store,
      broker,
      cleanup: async () => {
        await broker.deleteStreams();
        await broker.close();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}

describe.skipIf(!available)('NATS broker specifics', () => {
  const streamPrefix = testPrefix('spec');
  let broker: NatsBroker;
  const others: NatsBroker[] = [];

  beforeAll(async () => {
    broker = await openNatsBroker({ servers, streamPrefix, partitions: 4, ...timings });
  });
  afterAll(async () => {
    for (const b of others) await b.close().catch(() => {});
    await broker?.deleteStreams();
    await broker?.close();
  });

  async function streamMessages(channel: string): Promise<number> {
    const jsm = await jetstreamManager(broker.connection);
    return (await jsm.streams.info(broker.streamName(channel))).state.messages;
  }

  it('records partition count and lease time once; later instances follow them', async () => {
    const channel = uniqueName('ch');
    expect(await broker.partitionsOf(channel)).toBe(4);
    const other = await openNatsBroker({ servers, streamPrefix, partitions: 16, ...timings, leaseMs: 5_000 });
    others.push(other);
    expect(await other.partitionsOf(channel)).toBe(4);
    expect(other.settings.leaseMs).toBe(1_000);
    const fresh = uniqueName('ch');
    expect(await other.partitionsOf(fresh)).toBe(16);
    expect(await broker.partitionsOf(fresh)).toBe(16);
  });

  it('has every message stored once publish resolves, and drops a republished id', async () => {
    const channel = uniqueName('ch');
    const messages = Array.from({ length: 30 }, (_, i) => testEnvelope(channel, `k-${i % 7}`, i));
    await broker.publish(messages);
    expect(await streamMessages(channel)).toBe(30);
    await broker.publish([messages[3]!, messages[4]!]);
    expect(await streamMessages(channel)).toBe(30);
  });

  it('keeps array order per partition key across partitions published in parallel', async () => {
    const channel = uniqueName('ch');
    const messages = Array.from({ length: 400 }, (_, i) => testEnvelope(channel, `k-${i % 13}`, Math.floor(i / 13)));
    await broker.publish(messages);
    const got = new Map<string, number[]>();
    const sub = await broker.subscribe({
      group: uniqueName('g'),
      channels: [channel],
      handler: async (batch) => {
        for (const m of batch.messages) {
          const { key, seq } = m.payload as { key: string; seq: number };
          got.set(key, [...(got.get(key) ?? []), seq]);
        }
      },
    });
    await expect.poll(() => [...got.values()].reduce((n, l) => n + l.length, 0), { timeout: 10_000 }).toBe(400);
    await sub.close();
    for (const [key, seqs] of got) {
      const expected = messages.filter((m) => m.partitionKey === key).map((m) => (m.payload as { seq: number }).seq);
      expect(seqs).toEqual(expected);
    }
  });

  it('keeps a slow batch from being redelivered while the handler works on it', async () => {
    const slow = await openNatsBroker({ servers, streamPrefix, ...timings, ackWaitMs: 1_500 });
    others.push(slow);
    const jsm = await jetstreamManager(slow.connection);
    const channel = uniqueName('ch');
    await slow.publish(Array.from({ length: 5 }, (_, i) => testEnvelope(channel, 'k', i)));
    const redeliveredNow = async () => {
      let n = 0;
      for await (const c of jsm.consumers.list(slow.streamName(channel))) n += c.num_redelivered;
      return n;
    };
    const seen: number[] = [];
    let redeliveredWhileBusy = -1;
    const sub = await slow.subscribe({
      group: uniqueName('g'),
      channels: [channel],
      handler: async (batch) => {
        for (const m of batch.messages) seen.push((m.payload as { seq: number }).seq);
        if (seen.length < 5 || redeliveredWhileBusy >= 0) return;
        await new Promise((r) => setTimeout(r, 3_500)); // more than two ack waits
        redeliveredWhileBusy = await redeliveredNow();
      },
    });
    await expect.poll(() => redeliveredWhileBusy, { timeout: 10_000 }).toBeGreaterThanOrEqual(0);
    await sub.close();
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(redeliveredWhileBusy).toBe(0);
  });

  it('fails a publish to a deleted channel stream with a typed error, then recreates the stream', async () => {
    const channel = uniqueName('ch');
    await broker.publish([testEnvelope(channel, 'k', 0)]);
    const jsm = await jetstreamManager(broker.connection);
    await jsm.streams.delete(broker.streamName(channel));
    const error = await broker.publish([testEnvelope(channel, 'k', 1)]).catch((e: unknown) => e);
    expect(isNatsBrokerError(error, 'PUBLISH_FAILED')).toBe(true);
    await broker.publish([testEnvelope(channel, 'k', 2)]);
    expect(await streamMessages(channel)).toBe(1);
  });

  it('rejects bad names and use after close with typed errors', async () => {
    await expect(broker.subscribe({ group: 'bad group', channels: ['x'], handler: async () => {} })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(broker.subscribe({ group: 'g', channels: [], handler: async () => {} })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(broker.publish([testEnvelope('bad channel', 'k', 0)])).rejects.toBeInstanceOf(InvalidArgumentError);
    const closing = await openNatsBroker({ servers, streamPrefix, ...timings });
    await closing.close();
    await expect(closing.publish([testEnvelope('ch', 'k', 0)])).rejects.toBeInstanceOf(ClosedError);
  });

  it('fails to open with a typed error when no server answers', async () => {
    const error = await openNatsBroker({ servers: '127.0.0.1:1', logger: silentLogger }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NatsConnectionError);
    expect(isNatsBrokerError(error, 'CONNECTION_FAILED')).toBe(true);
    await expect(openNatsBroker({ servers, streamPrefix: 'no_underscores' })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
