import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import amqp from 'amqplib';

const run = promisify(execFile);

/** Deletes every JetStream stream whose name starts with `prefix`. */
export async function deleteNatsStreams(prefix: string, servers = '127.0.0.1:4222'): Promise<void> {
  const nc = await natsConnect({ servers });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names()) if (name.startsWith(prefix)) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}

/** Deletes the queues and exchanges whose names start with `prefix` (names listed by the local rabbitmqctl). */
export async function deleteRabbitTopology(prefix: string, url = 'amqp://guest:guest@127.0.0.1:5672'): Promise<void> {
  const list = async (what: 'list_queues' | 'list_exchanges') =>
    (await run('rabbitmqctl', ['-q', '--no-table-headers', what, 'name'])).stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((name) => name.startsWith(prefix));
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    for (const q of await list('list_queues')) await ch.deleteQueue(q);
    for (const x of await list('list_exchanges')) await ch.deleteExchange(x);
    await ch.close();
  } finally {
    await conn.close();
  }
}
