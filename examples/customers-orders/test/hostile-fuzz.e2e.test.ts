import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawRequest } from '@concord/http/testing';
import { dropPostgresDatabase } from '@concord/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoClient, waitUntil } from './demo-client.js';
import { spawnDemo } from './demo-process.js';
import { hostileRequests } from './hostile-requests.js';

const REQUESTS = Number(process.env.CONCORD_FUZZ_REQUESTS ?? 10_000);
const CONCURRENCY = 32;
const SECRET = 'fuzz-secret';
const SEED = Number(process.env.CONCORD_FUZZ_SEED ?? Date.now() % 1_000_000);
// CONCORD_FUZZ_ON_POSTGRES=1: npm start on PostgreSQL (its own databases, dropped after) instead of SQLite.
const PG_BASE = process.env.CONCORD_FUZZ_ON_POSTGRES ? `postgres://postgres@127.0.0.1:5432/cfuzz_${Date.now().toString(36)}` : undefined;

describe('10,000 random hostile requests against npm start', () => {
  let dir: string;
  let child: ChildProcess;
  let url: string;
  let stderr: () => string;
  let api: DemoClient;
  const customers: Array<{ id: number; limit: number }> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-fuzz-'));
    ({ child, url, stderr } = await spawnDemo({
      CONCORD_DATA_DIR: dir,
      CONCORD_DATABASE_URL: PG_BASE ?? '',
      CONCORD_BROKER_URL: '',
      CONCORD_ADMIN_TOKEN: `fuzzer:${SECRET}`,
      CONCORD_SSE_MAX_STREAMS_PER_CLIENT: '200',
    }));
    api = new DemoClient(url, SECRET);
    for (const limit of [10, 25, 50, 100, 3]) customers.push({ id: await api.createCustomer(`Fuzz ${limit}`, `${limit}.00`), limit });
  }, 60_000);
  afterAll(async () => {
    if (child?.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
    for (const db of ['customer_service', 'order_service', 'order_history', 'broker']) {
      if (PG_BASE) await dropPostgresDatabase(`${PG_BASE}_${db}`).catch(() => {});
    }
  });

  it(`answers every one without a 5xx, stays up, and keeps credit consistent (seed ${SEED})`, async () => {
    const port = Number(new URL(url).port);
    const gen = hostileRequests(SEED, { customerIds: customers.map((c) => c.id), adminSecret: SECRET });
    const serverErrors: string[] = [];
    const counts = { client: 0, raw: 0, noAnswer: 0, statuses: new Map<number, number>() };
    const count = (status: number, what: string) => {
      counts.statuses.set(status, (counts.statuses.get(status) ?? 0) + 1);
      if (status >= 500) serverErrors.push(`${status} ${what.slice(0, 300)}`);
    };
    let sent = 0;

    async function worker(): Promise<void> {
      while (sent < REQUESTS) {
        sent++;
        const request = gen.next();
        if (request.kind === 'raw') {
          counts.raw++;
          const answer = await rawRequest(port, request.bytes, { end: true, timeoutMs: 3_000 });
          const statuses = [...answer.text.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
          if (statuses.length === 0) counts.noAnswer++;
          for (const s of statuses) count(s, JSON.stringify(request.bytes.toString('latin1').slice(0, 200)));
          continue;
        }
        counts.client++;
        try {
          const res = await fetch(url + request.path, {
            method: request.method,
            headers: request.headers,
            ...(request.body === undefined ? {} : { body: request.body }),
            signal: AbortSignal.timeout(10_000),
          });
          count(res.status, `${request.method} ${request.path} ${JSON.stringify(request.headers)} ${request.body?.slice(0, 100) ?? ''}`);
          await res.body?.cancel(); // event streams included: dropping them is part of the test
        } catch {
          counts.noAnswer++; // refused before sending (fetch's own checks) or cut after a 413: never a 5xx
        }
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    console.log(`fuzz seed ${SEED}: ${counts.client} client + ${counts.raw} raw; statuses ${JSON.stringify(Object.fromEntries([...counts.statuses].sort()))}; no answer ${counts.noAnswer}`);
    expect(serverErrors).toEqual([]);
    expect(child.exitCode).toBeNull();
    expect((await api.call('GET', '/health')).status).toBe(200);
    expect(stderr()).not.toMatch(/"level":(50|60)/); // nothing logged as error or fatal

    // Credit invariant: available = limit - sum of approved orders, once every saga has finished.
    const orders = await waitUntil(async () => {
      const all = (await api.call('GET', '/orders')).body.orders as Array<{ orderId: number; orderState: string }>;
      return all.every((o) => o.orderState !== 'PENDING') ? all : undefined;
    }, 60_000);
    const state = new Map(orders.map((o) => [o.orderId, o.orderState]));
    for (const customer of customers) {
      await waitUntil(async () => {
        const view = (await api.call('GET', `/customers/${customer.id}/orderhistory`)).body as { orders: Record<string, { orderId: number; state: string; orderTotal: { amount: string } }> };
        const mine = Object.values(view.orders);
        if (mine.some((o) => o.state !== state.get(o.orderId))) return undefined;
        const approved = mine.filter((o) => o.state === 'APPROVED').reduce((sum, o) => sum + Math.round(Number(o.orderTotal.amount) * 100), 0);
        const available = (await api.call('GET', `/customers/${customer.id}`)).body.availableCredit.amount as string;
        expect(approved).toBeLessThanOrEqual(customer.limit * 100);
        return Math.round(Number(available) * 100) === customer.limit * 100 - approved;
      }, 60_000);
    }
  }, 240_000);
});
