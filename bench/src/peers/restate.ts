import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as restate from '@restatedev/restate-sdk';
import { OrderDatabases, orderInput } from './order-databases.js';
import type { PeerSystem } from './peer-system.js';

const require = createRequire(import.meta.url);

// The Restate SDK calls Promise.withResolvers (Node 22); this machine runs Node 20.
const promiseCtor = Promise as unknown as { withResolvers?: () => unknown };
promiseCtor.withResolvers ??= () => {
  let resolve!: (value: unknown) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

/** The restate-server binary shipped in its npm package's platform package (no download at run time). */
function restateServerBin(): string {
  const main = require.resolve('@restatedev/restate-server/package.json');
  const platform = createRequire(main).resolve(`@restatedev/restate-server-${process.platform}-${process.arch}/package.json`);
  return join(dirname(platform), 'bin', 'restate-server');
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Restate: the saga as a durable handler of three `ctx.run` steps, each one local transaction;
 * restate-server (its own process, journal in its own RocksDB) drives it. Invoked through the
 * ingress, which answers when the handler finished.
 */
export async function openRestate(prefix: string, basePort: number): Promise<PeerSystem> {
  const dbs = await OrderDatabases.create(prefix, 100);
  const orders = restate.service({
    name: 'orders',
    handlers: {
      createOrder: async (ctx: restate.Context, input: { orderId: number; customerId: number; total: number }) => {
        await ctx.run('insertPending', () => dbs.insertPending(input.orderId, input.customerId, input.total));
        const ok = await ctx.run('reserveCredit', () => dbs.reserveCredit(input.customerId, input.total));
        await ctx.run('finish', () => dbs.finish(input.orderId, ok));
        return ok;
      },
    },
  });
  const endpointPort = await restate.endpoint().bind(orders).listen(basePort);
  const dir = mkdtempSync(join(tmpdir(), 'concord-bench-restate-'));
  const [fabric, admin, ingress] = [basePort + 1, basePort + 2, basePort + 3];
  const server: ChildProcess = spawn(restateServerBin(), ['--no-logo'], {
    env: {
      ...process.env,
      RESTATE_BASE_DIR: dir,
      RESTATE_LISTEN_MODE: 'tcp',
      RESTATE_BIND_ADDRESS: `127.0.0.1:${fabric}`,
      RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${admin}`,
      RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ingress}`,
      RESTATE_LOG_FILTER: 'error',
    },
    stdio: 'ignore',
  });
  const stop = async () => {
    if (server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${admin}/health`)).ok, 60_000, 'restate-server admin');
    const registered = await fetch(`http://127.0.0.1:${admin}/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uri: `http://127.0.0.1:${endpointPort}` }),
    });
    if (!registered.ok) throw new Error(`registering the Restate deployment failed: ${registered.status} ${await registered.text()}`);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${ingress}/restate/health`)).ok, 60_000, 'restate-server ingress');
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    name: 'Restate 1.7',
    databasePrefix: prefix,
    helperPids: () => (server.pid ? [server.pid] : []),
    async runSaga(i) {
      const { customerId, total } = orderInput(i);
      const res = await fetch(`http://127.0.0.1:${ingress}/orders/createOrder`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ orderId: dbs.newOrderId(), customerId, total }),
      });
      if (!res.ok) throw new Error(`Restate ingress answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    },
    async close() {
      await stop();
      await dbs.close();
    },
  };
}
