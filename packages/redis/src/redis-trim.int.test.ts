import { serviceAvailable, services, uniqueName } from '@concord/core/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { deleteKeysWithPrefix } from './index.js';
import { trimScript } from './redis-script.js';

const available = await serviceAvailable(services.redis);
function idOrder(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}

const keyPrefix = `${uniqueName('concord-test-trim')}:`;

describe.skipIf(!available)('redis broker: trimming keeps what a group has not acknowledged', () => {
  const redis = available ? new Redis('redis://127.0.0.1:6379') : undefined;
  let stream = '';
  let ids: string[] = [];
  afterAll(async () => {
    await deleteKeysWithPrefix(redis!, keyPrefix);
    redis!.disconnect();
  });
  beforeEach(async () => {
    stream = `${keyPrefix}${uniqueName('s')}`;
    const pipeline = redis!.pipeline();
    for (let i = 0; i < 1000; i++) pipeline.xadd(stream, '*', 'n', String(i));
    ids = ((await pipeline.exec()) ?? []).map(([, id]) => String(id));
  });

  async function readAndAck(group: string, read: number, ack: number) {
    await redis!.call('XGROUP', 'CREATE', stream, group, '0');
    if (read > 0) await redis!.call('XREADGROUP', 'GROUP', group, 'c', 'COUNT', read, 'STREAMS', stream, '>');
    if (ack > 0) await redis!.xack(stream, group, ...ids.slice(0, ack));
  }

  it('trims up to the oldest entry any group still has pending', async () => {
    await readAndAck('all-done', 1000, 1000);
    await readAndAck('behind', 500, 200);
    await trimScript.run(redis!, [stream], [1, 0]);
    const left = await redis!.xlen(stream);
    expect(left).toBeLessThan(1000);
    expect(left).toBeGreaterThanOrEqual(800);
    const first = (await redis!.xrange(stream, '-', '+', 'COUNT', 1))[0]![0];
    expect(idOrder(first, ids[200]!)).toBeLessThanOrEqual(0);
    expect(await redis!.xrange(stream, ids[200]!, ids[200]!)).toHaveLength(1);
  });

  it('trims nothing while a group has not read anything yet', async () => {
    await readAndAck('all-done', 1000, 1000);
    await readAndAck('new', 0, 0);
    await trimScript.run(redis!, [stream], [1, 0]);
    expect(await redis!.xlen(stream)).toBe(1000);
  });

  it('trims nothing younger than the retention, even when everything was acknowledged', async () => {
    await readAndAck('all-done', 1000, 1000);
    await trimScript.run(redis!, [stream], [3_600_000, 0]);
    expect(await redis!.xlen(stream)).toBe(1000);
    await trimScript.run(redis!, [stream], [1, 0]);
    expect(await redis!.xlen(stream)).toBeLessThanOrEqual(100);
  });
});
