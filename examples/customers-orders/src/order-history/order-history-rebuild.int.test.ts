import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId, silentLogger, type MessageEnvelope, type SqlBroker } from '@concord/core';
import { eventually, serviceAvailable, services, uniqueName } from '@concord/core/testing';
import { dropPostgresDatabase, ensurePostgresDatabase, openPostgresBroker } from '@concord/postgres';
import { openSqliteBroker, openSqliteStore } from '@concord/sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUSTOMER_EVENTS, CustomerCreated } from '../contracts.js';
import { OrderHistoryView } from './order-history-view.js';

const timings = { partitions: 8, leaseMs: 6_000, pollIntervalMs: 20, logger: silentLogger };
const pgAvailable = await serviceAvailable(services.postgres);
const pgUrl = `postgres://postgres@127.0.0.1:5432/${uniqueName('concord_rebuild').replaceAll('-', '_').toLowerCase()}`;

/** The in-database broker on SQLite (offsets committed per batch) and on PostgreSQL (offsets committed in the background). */
const brokers: Array<{ name: string; skip: boolean; open: (dir: string) => Promise<SqlBroker>; drop: () => Promise<void> }> = [
  { name: 'sqlite', skip: false, open: (dir) => openSqliteBroker({ filename: join(dir, 'broker.db'), ...timings }), drop: async () => undefined },
  {
    name: 'postgres',
    skip: !pgAvailable,
    open: async () => {
      await ensurePostgresDatabase(pgUrl);
      return openPostgresBroker({ connectionString: pgUrl, poolSize: 4, ...timings });
    },
    drop: () => dropPostgresDatabase(pgUrl),
  },
];

/** Two instances of the order-history view (own broker and store handles on the same databases), as two processes would run it. */
describe.each(brokers)('order-history view on the $name broker: rebuild coordinated across instances', ({ skip, open, drop }) => {
  if (skip) return;
  const dir = mkdtempSync(join(tmpdir(), 'concord-rebuild-'));
  const closers: Array<() => Promise<void>> = [];
  const views: OrderHistoryView[] = [];
  let publisher: SqlBroker;
  let published = 0;

  async function instance(): Promise<OrderHistoryView> {
    const broker = await open(dir);
    const store = await openSqliteStore({ filename: join(dir, 'order-history.db'), logger: silentLogger });
    const view = new OrderHistoryView({ store, broker, logger: silentLogger });
    await view.start();
    closers.push(async () => {
      await view.stop();
      await broker.close();
      await store.close();
    });
    return view;
  }

  async function publishCustomers(n: number): Promise<void> {
    const envelopes: MessageEnvelope[] = [];
    for (let i = 0; i < n; i++) {
      const customerId = ++published;
      envelopes.push({
        id: newId(),
        type: CustomerCreated.type,
        channel: CUSTOMER_EVENTS,
        partitionKey: String(customerId),
        headers: {},
        schemaVersion: 1,
        payload: { customerId, name: `c${customerId}`, creditLimit: 100 },
        createdAt: Date.now(),
      });
    }
    await publisher.publish(envelopes);
  }

  async function everyCustomerVisible(): Promise<void> {
    await eventually(async () => {
      for (let id = 1; id <= published; id++) if (!(await views[0]!.get(id))) return false;
      return true;
    }, 20_000);
  }

  beforeAll(async () => {
    publisher = await open(dir);
    views.push(await instance(), await instance());
    // Both instances hold their share of the 16 partitions (8 per channel) before anything else.
    await eventually(() => views.every((v) => v.assignedPartitions().length === 8), 20_000);
    await publishCustomers(40);
    await everyCustomerVisible();
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await publisher.close();
    await drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a rebuild on one instance replays every partition, the other instance\'s included, and both go on consuming', async () => {
    // Traffic goes on during the rebuild: the other instance's workers must not commit their
    // old positions over the rewind (they used to, and its partitions were never replayed).
    const traffic = (async () => {
      for (let i = 0; i < 10; i++) {
        await publishCustomers(4);
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    await views[0]!.rebuild();
    await traffic;
    // The view was emptied: every customer back means every partition was replayed.
    await everyCustomerVisible();
    await publishCustomers(10);
    await everyCustomerVisible();
  });

  it('two rebuilds at once: one runs, the other is refused with a 409-style error; no consumer is orphaned', async () => {
    const results = await Promise.allSettled([views[0]!.rebuild(), views[1]!.rebuild()]);
    const refused = results.filter((r) => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'ILLEGAL_STATE', name: 'RebuildInProgressError' });
    await everyCustomerVisible();
    await publishCustomers(10);
    await everyCustomerVisible();
    // And once it is over, another rebuild is accepted.
    await views[1]!.rebuild();
    await everyCustomerVisible();
  });
});
