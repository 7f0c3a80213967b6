import { silentLogger } from '@concord/core';
import { serviceAvailable, services } from '@concord/core/testing';
import { dropPostgresDatabase } from '@concord/postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type RunningDemo } from '../src/demo.js';
import { DemoClient, waitUntil } from './demo-client.js';

const PG = 'postgres://postgres@127.0.0.1:5432';
const available = await serviceAvailable(services.postgres);

interface Ready {
  status: number;
  body: { status: string; checks: Record<string, { ok: boolean; error?: string }> };
}

/**
 * /ready under the PostgreSQL configuration: the demo's own databases are made unreachable
 * (connections refused, existing ones terminated) without touching the shared server, then
 * opened again. /ready must say so within seconds and recover by itself.
 */
describe.skipIf(!available)('demo /ready on PostgreSQL', () => {
  const base = `cops_ready_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const databases = ['customer_service', 'order_service', 'order_history', 'broker'].map((s) => `${base}_${s}`);
  let demo: RunningDemo;
  let admin: pg.Client;

  const ready = async (): Promise<Ready> => {
    const res = await fetch(`${demo.url}/ready`);
    return { status: res.status, body: (await res.json()) as Ready['body'] };
  };
  const setConnections = async (allow: boolean) => {
    for (const db of databases) {
      await admin.query(`ALTER DATABASE ${db} ALLOW_CONNECTIONS ${allow}`);
      if (!allow) await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [db]);
    }
  };

  beforeAll(async () => {
    demo = await startDemo({ port: 0, dataDir: '', sagaMode: 'orchestration', databaseUrl: `${PG}/${base}`, brokerUrl: undefined }, silentLogger);
    admin = new pg.Client({ connectionString: `${PG}/postgres` });
    await admin.connect();
  }, 60_000);

  afterAll(async () => {
    if (admin) await setConnections(true).catch(() => undefined);
    await demo?.stop().catch(() => undefined);
    for (const db of databases) await dropPostgresDatabase(`${PG}/${db}`).catch(() => undefined);
    await admin?.end();
  }, 60_000);

  it('is ready, fails within seconds of the databases becoming unreachable, and recovers when they are back', async () => {
    const api = new DemoClient(demo.url);
    const customerId = await api.createCustomer('Ready', '50.00');
    expect((await api.awaitFinal(await api.createOrder(customerId, '10.00'))).orderState).toBe('APPROVED');
    expect(await ready()).toMatchObject({ status: 200, body: { status: 'ready' } });

    await setConnections(false);
    try {
      const down = await waitUntil(async () => {
        const r = await ready();
        return r.status === 503 && r;
      }, 10_000);
      expect(down.body.status).toBe('not ready');
      expect(down.body.checks['store:order-service']).toMatchObject({ ok: false, error: expect.any(String) });
      expect((await fetch(`${demo.url}/health`)).status).toBe(200);
    } finally {
      await setConnections(true);
    }

    const back = await waitUntil(async () => {
      const r = await ready();
      return r.status === 200 && r;
    }, 20_000);
    expect(Object.values(back.body.checks).every((c) => c.ok)).toBe(true);
    // And the service works again, not just its probes.
    expect((await api.awaitFinal(await api.createOrder(customerId, '5.00'))).orderState).toBe('APPROVED');
  }, 90_000);
});
