/**
 * `npm run start:distributed`: the demo as separate processes, two instances each of the
 * Customer, Order and Order History services, behind one HTTP entry point on PORT (8080) with
 * the same API as `npm start`. Defaults to PostgreSQL + NATS; CONCORD_DATABASE_URL and
 * CONCORD_BROKER_URL choose others. Ctrl-C (or SIGTERM) stops every process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@concord/core';
import { closeGracefully, guardProcess, listen } from '@concord/http';
import { ensureMysqlDatabase } from '@concord/mysql';
import { ensurePostgresDatabase } from '@concord/postgres';
import { readConfig } from '../config.js';
import { Infrastructure, type ServiceName } from '../infrastructure.js';
import { createGateway } from './gateway.js';
import { isInstanceMessage } from './instance-messages.js';

const env = {
  ...process.env,
  CONCORD_DATABASE_URL: process.env.CONCORD_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/concord',
  CONCORD_BROKER_URL: process.env.CONCORD_BROKER_URL ?? 'nats://127.0.0.1:4222',
};
const logger = createLogger({ name: 'distributed', level: process.env.CONCORD_LOG_LEVEL ?? 'info' });
let config;
try {
  config = readConfig(env);
} catch (error) {
  console.error(`concord demo: ${(error as Error).message}`);
  process.exit(2);
}
const infra = new Infrastructure(config, logger);
const adminToken = config.adminToken!;
// A generated token goes to every service process, so one token opens the whole system.
const childEnv = adminToken.generated ? { ...env, CONCORD_ADMIN_TOKEN: adminToken.secret } : env;
const services: ServiceName[] = ['customer-service', 'order-service', 'order-history'];
const INSTANCES = Number(process.env.CONCORD_INSTANCES ?? 2);
const script = join(dirname(fileURLToPath(import.meta.url)), 'service-process.ts');

// Databases first, once: two instances starting at the same moment would race to create them.
const databases = [...services, ...(infra.brokerKind === infra.storeKind ? ['broker'] : [])];
for (const name of databases) {
  const url = infra.serviceDatabaseUrl(name);
  if (infra.storeKind === 'postgres') await ensurePostgresDatabase(url);
  else await ensureMysqlDatabase(url);
}

interface Instance {
  readonly service: ServiceName;
  readonly index: number;
  /** The port it is told to take: PORT + 1… in order, or 0 (the system picks) when PORT is 0. */
  readonly port: number;
  /** Where it listens, once it has said so. */
  url?: string;
  child?: ChildProcess;
}
const instances: Instance[] = [];
services.forEach((service, s) => {
  for (let i = 0; i < INSTANCES; i++) {
    instances.push({ service, index: i + 1, port: config.port === 0 ? 0 : config.port + 1 + s * INSTANCES + i });
  }
});
// The gateway reads these arrays on every request, so a restarted instance's new address is
// used as soon as it is known.
const upstreams = Object.fromEntries(services.map((s) => [s, [] as string[]])) as Record<ServiceName, string[]>;
let stopping = false;
let started = false;
let fatal: ((reason: Error) => void) | undefined;
// An instance that cannot run as configured (its port is taken): fails the start, or after
// it stops the whole system, rather than restarting that process forever.
const fatalError = new Promise<never>((_, reject) => (fatal = reject));
fatalError.catch(async (error: Error) => {
  if (!started) return;
  logger.error({}, error.message);
  unguard();
  await stopAll();
  process.exit(1);
});

function launch(instance: Instance): void {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', script], {
    env: { ...childEnv, SERVICE: instance.service, INSTANCE: String(instance.index), PORT: String(instance.port) },
    // The IPC channel is how a child notices that this launcher died, even by SIGKILL, and
    // how it says where it listens.
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // Its own process group: a terminal's Ctrl-C reaches only this launcher, which then stops
    // the gateway first and the services after, instead of everything at once.
    detached: true,
  });
  instance.child = child;
  child.on('message', (message) => {
    if (!isInstanceMessage(message)) return;
    if (message.type === 'concord:fatal') {
      fatal?.(new Error(message.message));
      return;
    }
    instance.url = `http://127.0.0.1:${message.port}`;
    upstreams[instance.service][instance.index - 1] = instance.url;
    logger.info({ service: instance.service, instance: instance.index, url: instance.url }, 'service instance listening');
  });
  child.on('exit', (code, signal) => {
    if (stopping) return;
    logger.warn({ service: instance.service, instance: instance.index, code, signal }, 'service process exited; restarting it');
    setTimeout(() => !stopping && launch(instance), 1_000);
  });
}

async function healthy(instance: Instance, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = instance.url !== undefined && (await fetch(`${instance.url}/health`).then((r) => r.ok, () => false));
    if (ok) return;
    await Promise.race([new Promise((r) => setTimeout(r, 200)), fatalError]);
  }
  throw new Error(`${instance.service}#${instance.index} did not become healthy within ${timeoutMs / 1000} s`);
}

/** SIGTERM to every service process (each finishes its in-flight work), SIGKILL after 10 s. */
async function stopChildren(): Promise<void> {
  stopping = true;
  const exits = instances
    .filter((i) => i.child && i.child.exitCode === null && i.child.signalCode === null)
    .map((i) => new Promise((r) => i.child!.once('exit', r)));
  for (const i of instances) i.child?.kill('SIGTERM');
  const killer = setTimeout(() => instances.forEach((i) => i.child?.kill('SIGKILL')), 10_000);
  await Promise.all(exits);
  clearTimeout(killer);
}
const running: { gateway?: ReturnType<typeof createGateway> } = {};
// The gateway drains first (its requests need the services), then the services stop.
async function stopAll(): Promise<void> {
  if (running.gateway?.listening) await closeGracefully(running.gateway, { timeoutMs: 5_000 });
  await stopChildren();
}
const unguard = guardProcess({ logger, stop: stopAll, timeoutMs: 20_000 });

try {
  // First instances create schemas and run migrations; the second ones find them done.
  for (const round of [1, 2, 3, 4].slice(0, INSTANCES)) {
    const batch = instances.filter((i) => i.index === round);
    batch.forEach(launch);
    await Promise.all(batch.map((i) => healthy(i)));
  }
} catch (error) {
  await failStart(error);
}

const gateway = createGateway(upstreams, { logger, adminToken, limits: config.httpLimits });
running.gateway = gateway;
const { url } = await listen(gateway, { port: config.port, host: config.host }).catch(failStart);
started = true;
const shown = url.replace('//127.0.0.1:', '//localhost:');
console.log(
  `Concord distributed demo ready: ${shown}  (${infra.describe()}, ${INSTANCES} instances of each service)\n` +
    `  operator console: ${adminToken.consoleUrl(shown)}`,
);

async function failStart(error: unknown): Promise<never> {
  logger.error({ err: error }, 'start failed');
  console.error(`concord distributed demo: ${(error as Error).message}`);
  unguard();
  await stopChildren();
  process.exit(1);
}
