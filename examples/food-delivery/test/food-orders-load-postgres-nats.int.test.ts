import { jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import { silentLogger } from '@concord/core';
import { serviceAvailable, services } from '@concord/core/testing';
import { AdminToken } from '@concord/http';
import { dropPostgresDatabase } from '@concord/postgres';
import { describe, expect, it } from 'vitest';
import { startFoodDelivery } from '../src/food-delivery.js';
import { runFoodLoad } from './food-load.js';

const PG = 'postgres://postgres@127.0.0.1:5432';
const available = (await serviceAvailable(services.postgres)) && (await serviceAvailable(services.nats));

describe.skipIf(!available)('food delivery under load (PostgreSQL + NATS, one process)', () => {
  it('1,000 concurrent orders, 100 packets, 20 agents: no double assignment, all settled, nothing left reserved', async () => {
    const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const base = `cfood_${id}`;
    const prefix = `cfood-${id}`;
    // Long enough for a saga to reserve and assign on a busy server; shorter TTLs reject everything (correctly).
    const ttlMs = Number(process.env.FOOD_LOAD_TTL_MS ?? 15_000);
    const app = await startFoodDelivery(
      {
        port: 0,
        host: '127.0.0.1',
        adminToken: AdminToken.random(),
        dataDir: '/nonexistent',
        databaseUrl: `${PG}/${base}`,
        brokerUrl: 'nats://127.0.0.1:4222',
        brokerPrefix: prefix,
        reservationTtlMs: ttlMs,
      },
      silentLogger,
    );
    try {
      const counts = await runFoodLoad(app, { orders: Number(process.env.FOOD_LOAD_ORDERS ?? 1_000), kitchens: 5, packetsPerKitchen: 20, agents: 20, ttlMs, settleTimeoutMs: 120_000 });
      console.log('food load (postgres + nats):', counts);
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(Number(process.env.FOOD_LOAD_ORDERS ?? 1_000));
    } finally {
      await app.stop();
      for (const service of ['food_order_service', 'kitchen_service', 'delivery_service']) {
        await dropPostgresDatabase(`${PG}/${base}_${service}`).catch(() => {});
      }
      const nc = await natsConnect({ servers: '127.0.0.1:4222' });
      const jsm = await jetstreamManager(nc);
      for await (const stream of jsm.streams.names()) if (stream.startsWith(prefix)) await jsm.streams.delete(stream);
      await nc.close();
    }
  }, 180_000);
});
