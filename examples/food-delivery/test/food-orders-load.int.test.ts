import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@concord/core';
import { AdminToken } from '@concord/http';
import { describe, expect, it } from 'vitest';
import { startFoodDelivery } from '../src/food-delivery.js';
import { runFoodLoad } from './food-load.js';

describe('food delivery under load (SQLite, one process)', () => {
  it('1,000 concurrent orders, 100 packets, 20 agents: no double assignment, all settled, nothing left reserved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'concord-food-load-'));
    const ttlMs = 3_000;
    const app = await startFoodDelivery(
      { port: 0, host: '127.0.0.1', adminToken: AdminToken.random(), dataDir: dir, databaseUrl: undefined, brokerUrl: undefined, reservationTtlMs: ttlMs },
      silentLogger,
    );
    try {
      const counts = await runFoodLoad(app, { orders: 1_000, kitchens: 5, packetsPerKitchen: 20, agents: 20, ttlMs, settleTimeoutMs: 75_000 });
      console.log('food load (sqlite):', counts);
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1_000);
    } finally {
      await app.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
