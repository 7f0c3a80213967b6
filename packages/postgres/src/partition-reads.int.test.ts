import { silentLogger, type MessageEnvelope } from '@concord/core';
import { serviceAvailable, services } from '@concord/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresBroker, type PostgresBroker } from './index.js';
import { createTestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.postgres);

describe.skipIf(!available)('in-database broker: partition reads asked for together', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let broker: PostgresBroker;
  const channel = 'reads.together';
  beforeAll(async () => {
    db = await createTestDatabase('reads');
    broker = await openPostgresBroker({ connectionString: db.url, partitions: 4, logger: silentLogger });
    const messages: MessageEnvelope[] = Array.from({ length: 40 }, (_, i) => ({
      id: `m-${i}`,
      type: 'test.Read',
      channel,
      partitionKey: `key-${i}`,
      headers: {},
      schemaVersion: 1,
      payload: { i },
      createdAt: Date.now(),
    }));
    await broker.publish(messages);
  });
  afterAll(async () => {
    await broker?.close();
    await db?.drop();
  });

  it('go out as one statement, and each reader gets its own partition in offset order, limit applied', async () => {
    const alone: Array<Awaited<ReturnType<PostgresBroker['partitionReads']['read']>>> = [];
    for (let p = 0; p < 4; p++) alone.push(await broker.partitionReads.read(channel, p, -1, 1000));
    expect(alone.flat()).toHaveLength(40);
    const driver = broker.driver;
    const run = driver.run.bind(driver);
    let statements = 0;
    driver.run = (fn) => {
      statements++;
      return run(fn);
    };
    try {
      const together = await Promise.all([0, 1, 2, 3].map((p) => broker.partitionReads.read(channel, p, 0, 3)));
      expect(statements).toBe(1);
      together.forEach((rows, p) => {
        const expected = alone[p]!.filter((r) => Number(r.msg_offset) > 0).slice(0, 3);
        expect(rows.map((r) => [Number(r.msg_offset), r.message_id])).toEqual(expected.map((r) => [Number(r.msg_offset), r.message_id]));
      });
    } finally {
      driver.run = run;
    }
  });
});
