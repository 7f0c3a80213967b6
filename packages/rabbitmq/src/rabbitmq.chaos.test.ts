import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConcordErrorCode, OutboxRelay, silentLogger } from '@concord/core';
import { type DeliveryBatch } from '@concord/core/spi';
import { counterEvent, eventually, serviceAvailable, services, testEnvelope, uniqueName } from '@concord/core/testing';
import { openSqliteStore } from '@concord/sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { RabbitErrorReason, openRabbitBroker, type RabbitBroker } from './index.js';

/**
 * RabbitMQ stopped and started again (the whole node, `rabbitmqctl stop`) while an outbox
 * relay publishes and a two-member group consumes. Streams and quorum queues are on disk, so
 * nothing may be lost: every message written to the outbox arrives, per key in order. The
 * test always starts RabbitMQ again, even when it fails.
 */
const available = await serviceAvailable(services.rabbitmq);
const url = process.env.CONCORD_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const prefix = uniqueName('concord-chaos');
const run = promisify(execFile);

function portOpen(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(5672, '127.0.0.1', () => done(true));
  });
}

async function waitForPort(open: boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await portOpen()) !== open) {
    if (Date.now() > deadline) throw new Error(`port 5672 did not become ${open ? 'open' : 'closed'} in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function ensureRabbitRunning(): Promise<void> {
  if (await portOpen()) return;
  // The node may be up with its app stopped; otherwise start the node.
  await run('rabbitmqctl', ['start_app'], { timeout: 60_000 }).catch(() => run('rabbitmq-server', ['-detached']));
  await waitForPort(true, 90_000);
}

describe.skipIf(!available)('rabbitmq broker chaos: RabbitMQ restarted during load', () => {
  const brokers: RabbitBroker[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'concord-rabbitmq-chaos-'));
  afterAll(async () => {
    await ensureRabbitRunning();
    const admin = await openRabbitBroker({ url, prefix, logger: silentLogger });
    for (const b of brokers) await admin.deleteTopology(b.usedTopology());
    await admin.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing: the relay retries, consumers resume from their committed offsets, per-key order holds', async () => {
    const channel = uniqueName('ch');
    const group = uniqueName('g');
    const Counted = counterEvent(channel);
    const options = { url, prefix, memberTimeoutMs: 1_500, logger: silentLogger };
    const store = await openSqliteStore({ filename: join(dir, 'producer.db') });
    const publisher = await openRabbitBroker(options);
    const consumers = [await openRabbitBroker(options), await openRabbitBroker(options)];
    const probe = await openRabbitBroker({ ...options, publishTimeoutMs: 1_000 });
    brokers.push(publisher, ...consumers, probe);
    const relay = new OutboxRelay({ store, broker: publisher, pollIntervalMs: 50, logger: silentLogger });

    const firsts = new Map<string, number[]>();
    const ids = new Set<string>();
    let deliveries = 0;
    const handler = async (batch: DeliveryBatch) => {
      for (const m of batch.messages) {
        deliveries++;
        if (ids.has(m.id)) continue;
        ids.add(m.id);
        const { key, seq } = m.payload as { key: string; seq: number };
        firsts.set(key, [...(firsts.get(key) ?? []), seq]);
      }
    };
    const KEYS = 20;
    let written = 0;
    let stopLoad = false;
    try {
      const subscriptions = await Promise.all(consumers.map((c) => c.subscribe({ group, channels: [channel], handler })));
      relay.start();
      // Load: one transaction of 20 messages (one per key) every few ms, until after the restart.
      const load = (async () => {
        for (let seq = 0; !stopLoad; seq++) {
          await store.transaction(async (tx) => {
            for (let k = 0; k < KEYS; k++) await tx.outbox.send(Counted, { key: `key-${k}`, seq });
          });
          written += KEYS;
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      await eventually(() => ids.size >= 1_000, 20_000);

      await run('rabbitmqctl', ['stop'], { timeout: 60_000 });
      await waitForPort(false, 30_000);
      // While it is down, a publish fails with a typed, retryable error once its time is up.
      await expect(probe.publish([testEnvelope(channel, 'probe', 0)])).rejects.toMatchObject({ code: ConcordErrorCode.UNAVAILABLE, reason: RabbitErrorReason.UNAVAILABLE });
      await run('rabbitmq-server', ['-detached']);
      await waitForPort(true, 90_000);
      const writtenAtRestart = written;
      await eventually(() => ids.size > writtenAtRestart + 1_000, 60_000); // delivery resumed
      stopLoad = true;
      await load;

      await eventually(() => ids.size === written, 60_000, 100);
      expect(firsts.size).toBe(KEYS);
      const perKey = written / KEYS;
      for (const [, seqs] of firsts) expect(seqs).toEqual(Array.from({ length: perKey }, (_, i) => i));
      await eventually(() => subscriptions.every((s) => s.assignedPartitions().length > 0), 20_000);
      expect(subscriptions.reduce((n, s) => n + s.assignedPartitions().length, 0)).toBe(16);
      console.info(
        `rabbitmq restart: ${written} messages written, ${ids.size} delivered (${deliveries - ids.size} redeliveries), ` +
          `${relay.getStats().failures} relay rounds failed and were retried`,
      );
    } finally {
      stopLoad = true;
      await ensureRabbitRunning();
      await relay.stop();
      for (const b of brokers) await b.close();
      await store.close();
    }
  });
});
