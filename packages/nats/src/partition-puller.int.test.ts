import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PartitionPuller } from './partition-puller.js';

const SERVER = '/usr/sbin/nats-server';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

// A server without JetStream answers no pull request at all: the request that silently ends.
describe.skipIf(!existsSync(SERVER))('PartitionPuller towards a pull request that ends without an answer', () => {
  let server: ChildProcess;
  let nc: NatsConnection;
  beforeAll(async () => {
    const port = await freePort();
    server = spawn(SERVER, ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    for (let i = 0; ; i++) {
      try {
        nc = await connect({ servers: `127.0.0.1:${port}` });
        break;
      } catch (error) {
        if (i > 50) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  afterAll(async () => {
    await nc?.close();
    server?.kill();
  });

  it('asks again once the request has expired, not only after the 2 s safety margin', async () => {
    const requests: number[] = [];
    const started = Date.now();
    nc.subscribe('$JS.API.CONSUMER.MSG.NEXT.s.c', { callback: () => void requests.push(Date.now() - started) });
    await nc.flush();
    const puller = new PartitionPuller(nc, 's', 'c', 10, 300);
    puller.start();
    await new Promise((r) => setTimeout(r, 1_100));
    await puller.stop();
    // At 0, then about every 400 ms (expiry + 100 ms); without the expiry timer only the first.
    expect(requests.length).toBeGreaterThanOrEqual(3);
    expect(requests[1]!).toBeGreaterThanOrEqual(350);
  });
});
