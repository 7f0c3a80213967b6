import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { silentLogger } from '@concord/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type RunningDemo } from '../src/demo.js';
import { DemoClient, waitUntil } from './demo-client.js';

const STREAMS = 5_000;

// A real collection before each heap reading, so the comparison is about what is retained.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapUsed = () => {
  gc();
  return process.memoryUsage().heapUsed;
};
const AT_ONCE = 100;

/** Open handles by kind (timers, sockets, …), as node counts them. */
function handles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) out[kind] = (out[kind] ?? 0) + 1;
  return out;
}

/** One stream opened on a raw socket and dropped: right after the request, a moment later, or after the first event. */
function openAndDrop(port: number, path: string, how: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const drop = () => socket.destroy();
    socket.on('close', () => resolve());
    socket.on('error', () => {});
    socket.once('connect', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      if (how === 0) drop(); // gone during the first read
      else if (how === 1) setTimeout(drop, 1 + (Math.random() * 5) | 0);
      else socket.once('data', drop);
    });
    setTimeout(drop, 5_000);
  });
}

describe('5,000 event streams opened and dropped', () => {
  let dir: string;
  let demo: RunningDemo;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-sse-churn-'));
    demo = await startDemo(
      {
        port: 0,
        dataDir: dir,
        sagaMode: 'orchestration',
        databaseUrl: undefined,
        brokerUrl: undefined,
        streamLimits: { maxStreams: 10_000, maxStreamsPerClient: 10_000 },
        // The distributed mode's cross-process watch (its 20 ms poll must stop with the last stream).
        orderWatchPollMs: 20,
      },
      silentLogger,
    );
  });
  afterAll(async () => {
    await demo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves no stream, subscription, poll, timer or socket behind, and memory where it was', async () => {
    const api = new DemoClient(demo.url);
    const customerId = await api.createCustomer('Churn', '10.00');
    await demo.customers.stop(); // the order stays PENDING: its streams stay open until dropped
    try {
      const pending = await api.createOrder(customerId, '1.00');
      const port = Number(new URL(demo.url).port);
      await openAndDrop(port, `/orders/${pending}/events`, 2); // warm up code paths before the baseline
      await waitUntil(async () => demo.streams.active === 0);
      const baseline = { handles: handles(), heap: heapUsed(), subscriptions: demo.orders.subscriptions };

      let opened = 0;
      while (opened < STREAMS) {
        const batch = Array.from({ length: Math.min(AT_ONCE, STREAMS - opened) }, (_, i) => openAndDrop(port, `/orders/${pending}/events`, (opened + i) % 3));
        opened += batch.length;
        await Promise.all(batch);
      }

      await waitUntil(async () => demo.streams.active === 0, 30_000);
      await waitUntil(async () => !demo.orders.subscriptions.polling && demo.orders.subscriptions.listeners === baseline.subscriptions.listeners, 30_000);
      expect(demo.orders.subscriptions).toEqual(baseline.subscriptions);
      // Sockets close as the server notices; timers are one shared heartbeat at most, and it stops.
      const after = await waitUntil(async () => {
        const now = handles();
        return (now.TCPSocketWrap ?? 0) <= (baseline.handles.TCPSocketWrap ?? 0) && (now.Timeout ?? 0) <= (baseline.handles.Timeout ?? 0) ? now : undefined;
      }, 30_000);
      expect(after.Timeout ?? 0).toBeLessThanOrEqual(baseline.handles.Timeout ?? 0);
      const grownMb = (heapUsed() - baseline.heap) / 2 ** 20;
      console.log(`5,000 streams: heap grew ${grownMb.toFixed(1)} MiB; handles before ${JSON.stringify(baseline.handles)} after ${JSON.stringify(after)}`);
      expect(grownMb).toBeLessThan(32);
    } finally {
      await demo.customers.start();
    }
  }, 120_000);
});
