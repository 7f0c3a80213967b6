import { silentLogger, writeLater } from '@concord/core';
import { serviceAvailable, services } from '@concord/core/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore, type PostgresStore } from './index.js';
import { createTestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.postgres);
const TOPIC = 'wake-test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!available)('NOTIFY after commit, towards a listener in another session', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: PostgresStore;
  let listener: pg.Client;
  const heard: number[] = [];
  const notifyingCommit = () => store.driver.transaction(async (exec) => store.driver.notify(exec, TOPIC));

  beforeAll(async () => {
    db = await createTestDatabase('notify');
    store = await openPostgresStore({ connectionString: db.url, logger: silentLogger });
    listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    listener.on('notification', () => heard.push(Date.now()));
    await listener.query(`LISTEN "${store.driver.channel(TOPIC)}"`);
  });
  afterAll(async () => {
    await listener?.end();
    await store?.close();
    await db?.drop();
  });

  it('announces a lone commit at once, and the last of a burst within the window', async () => {
    await sleep(100);
    heard.length = 0;
    const lone = Date.now();
    await notifyingCommit();
    await sleep(60);
    expect(heard).toHaveLength(1);
    expect(heard[0]! - lone).toBeLessThan(50);
    heard.length = 0;
    // A burst inside the 20 ms window: later commits take the owed NOTIFY along, or it goes alone.
    const burstStart = Date.now();
    let last = 0;
    for (let i = 0; i < 10; i++) {
      await notifyingCommit();
      last = Date.now();
      await sleep(3);
    }
    await sleep(100);
    expect(heard.length).toBeGreaterThanOrEqual(1);
    // At most one per 20 ms window (the burst takes longer on a loaded machine), plus the trailing one.
    expect(heard.length).toBeLessThanOrEqual(Math.ceil((last - burstStart) / 20) + 2);
    expect(heard.at(-1)!).toBeGreaterThanOrEqual(last - 25);
  });

  it('still announces a commit whose carrier failed to commit', async () => {
    // A 2 s window: an owed NOTIFY then waits 500 ms past it for a carrier before going alone,
    // wide enough that a loaded machine's late timers still land inside it.
    const slow = await openPostgresStore({ connectionString: db.url, notifyThrottleMs: 2_000, logger: silentLogger });
    try {
      const commit = () => slow.driver.transaction(async (exec) => slow.driver.notify(exec, TOPIC));
      await commit();
      const first = Date.now();
      await sleep(20);
      heard.length = 0;
      await commit(); // inside the window: owed
      await sleep(first + 2_100 - Date.now());
      expect(heard).toEqual([]); // not sent alone yet: the next commit is to carry it
      const carrierStarted = Date.now();
      const failing = slow.driver.transaction(async (exec) => {
        await slow.driver.notify(exec, TOPIC);
        await writeLater(exec, 'INSERT INTO no_such_table VALUES (1)');
      });
      await expect(failing).rejects.toThrow(/no_such_table/);
      await sleep(900);
      expect(heard.length).toBeGreaterThanOrEqual(1);
      expect(heard[0]!).toBeGreaterThanOrEqual(carrierStarted);
    } finally {
      await slow.close();
    }
  });
});
