import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutboxRelay, silentLogger } from '@concord/core';
import { counterEvent, eventually, serviceAvailable, services, uniqueName } from '@concord/core/testing';
import { openSqliteStore } from '@concord/sqlite';
import { describe, expect, it } from 'vitest';
import { openNatsBroker } from './index.js';

const available = await serviceAvailable(services.nats);

describe.skipIf(!available)('relay parking on NATS', () => {
  it("parks a message over the server's max_payload with the reason; the messages behind it flow", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'concord-nats-park-'));
    const store = await openSqliteStore({ filename: join(dir, 'service.db'), logger: silentLogger });
    const broker = await openNatsBroker({
      servers: '127.0.0.1:4222',
      streamPrefix: `t-park-${Date.now().toString(36)}`,
      leaseMs: 1_000,
      pullExpiresMs: 1_000,
      logger: silentLogger,
    });
    const relay = new OutboxRelay({ store, broker, logger: silentLogger, pollIntervalMs: 20 });
    const Counted = counterEvent(uniqueName('park'));
    const got: number[] = [];
    const sub = await broker.subscribe({
      group: uniqueName('g'),
      channels: [Counted.channel],
      handler: async (b) => void got.push(...b.messages.map((m) => (m.payload as { seq: number }).seq)),
    });
    try {
      const huge = 'x'.repeat(2 * 1024 * 1024); // NATS' default max_payload is 1 MiB
      await store.transaction(async (tx) => {
        await tx.outbox.send(Counted, { key: 'k', seq: 1 });
        await tx.outbox.send(Counted, { key: 'k', seq: 2 }, { headers: { 'x-blob': huge } });
        await tx.outbox.send(Counted, { key: 'k', seq: 3 });
      });
      relay.start();
      await eventually(() => got.length === 2, 15_000);
      expect(got).toEqual([1, 3]);
      const [parked] = await store.parkedOutbox.list();
      expect(parked!.error).toMatch(/refuses message .* over the NATS server's max_payload/);
      expect(relay.getStats().parked).toBe(1);
      expect((await store.outbox.lag()).count).toBe(0);
      // Replaying it changes nothing while the server's limit stands: it is parked again.
      await store.parkedOutbox.replay(parked!.id);
      await eventually(async () => (await store.parkedOutbox.list()).length === 1, 15_000);
      expect(relay.getStats().parked).toBe(2);
    } finally {
      await relay.stop();
      await sub.close();
      await broker.deleteStreams();
      await broker.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
