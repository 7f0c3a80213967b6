/**
 * Private database and broker servers for the chaos campaign, on ports of its own, so it may
 * restart them freely while other tests use the machine's shared servers on the standard
 * ports. Each one keeps its data in a temp directory across restarts and deletes it on stop.
 */
import type { ChildProcess } from 'node:child_process';
import { chownSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { privateDir, run, startChild, stopChild, track, untrack, waitForPort, waitForPortClosed } from './server-process.js';

export interface PrivateServer {
  readonly kind: string;
  /** What the demo's CONCORD_DATABASE_URL or CONCORD_BROKER_URL gets. */
  readonly url: string;
  /** Stops the server (as a crash or a clean shutdown, see each kind) and starts it again on the same data. */
  restart(): Promise<void>;
  /** Stops it for good and deletes its data. */
  stop(): Promise<void>;
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

/** PostgreSQL 15 in a fresh cluster run as the `postgres` OS user; a restart is `pg_ctl stop -m immediate` (a crash, then recovery). */
export async function startPostgres(port: number): Promise<PrivateServer> {
  const dir = privateDir('pg');
  const data = join(dir, 'data');
  chownSync(dir, uidOf('postgres'), gidOf('postgres'));
  const asPostgres = (cmd: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', join(PG_BIN, cmd), ...args]);
  await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  // fsync off: a restart here kills the server process, not the OS, so the page cache keeps every write.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c full_page_writes=off`;
  const start = async () => {
    await asPostgres('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-o', options, '-w', '-t', '120', 'start']);
    track(postmasterPid(data));
  };
  const halt = async (mode: 'immediate' | 'fast') => {
    untrack(postmasterPid(data));
    await asPostgres('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '120', 'stop']);
  };
  await start();
  return {
    kind: 'postgres',
    url: `postgres://postgres@127.0.0.1:${port}/chaos`,
    restart: async () => {
      await halt('immediate');
      await start();
    },
    stop: async () => {
      await halt('fast').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postmasterPid(data: string): number | undefined {
  try {
    return Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
}

function uidOf(user: string): number {
  return Number(readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`))!.split(':')[2]);
}
function gidOf(user: string): number {
  return Number(readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`))!.split(':')[3]);
}

/** MariaDB in a fresh data directory (no system config read); a restart is SIGKILL (InnoDB crash recovery). */
export async function startMariadb(port: number): Promise<PrivateServer> {
  const dir = privateDir('mariadb');
  const data = join(dir, 'data');
  await run('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db']);
  const args = [
    '--no-defaults',
    `--datadir=${data}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${join(dir, 'mysqld.sock')}`,
    `--pid-file=${join(dir, 'mysqld.pid')}`,
    `--log-error=${join(dir, 'error.log')}`,
    '--user=root',
    '--max-connections=400',
    '--skip-name-resolve=0',
    '--innodb-buffer-pool-size=256M',
    // As with PostgreSQL: a killed process, not a lost OS, so the page cache keeps what was written.
    '--innodb-flush-log-at-trx-commit=2',
  ];
  let child: ChildProcess = startChild('/usr/sbin/mariadbd', args);
  await waitForPort(port, 'MariaDB');
  return {
    kind: 'mariadb',
    url: `mysql://root@127.0.0.1:${port}/chaos`,
    restart: async () => {
      await stopChild(child, 'SIGKILL');
      await waitForPortClosed(port, 'MariaDB');
      child = startChild('/usr/sbin/mariadbd', args);
      await waitForPort(port, 'MariaDB', 180_000);
    },
    stop: async () => {
      // Its data is deleted next: no need to wait for a clean shutdown.
      await stopChild(child, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** NATS with JetStream on a private store directory; a restart is SIGTERM (a clean shutdown) and start. */
export async function startNats(port: number): Promise<PrivateServer> {
  const dir = privateDir('nats');
  const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir];
  let child = startChild('/usr/sbin/nats-server', args);
  await waitForPort(port, 'NATS');
  return {
    kind: 'nats',
    url: `nats://127.0.0.1:${port}`,
    restart: async () => {
      await stopChild(child, 'SIGTERM');
      child = startChild('/usr/sbin/nats-server', args);
      await waitForPort(port, 'NATS');
    },
    stop: async () => {
      await stopChild(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Redis with the append-only file fsynced on every write: the configuration under which the
 * Redis broker says it is durable. (With `--appendonly no` a restart empties every stream,
 * which no broker adapter can make up for.) A restart is SIGTERM (a clean shutdown) and start.
 */
export async function startRedis(port: number): Promise<PrivateServer> {
  const dir = privateDir('redis');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir];
  let child = startChild('/usr/bin/redis-server', args);
  await waitForPort(port, 'Redis');
  return {
    kind: 'redis',
    url: `redis://127.0.0.1:${port}`,
    restart: async () => {
      await stopChild(child, 'SIGTERM');
      child = startChild('/usr/bin/redis-server', args);
      await waitForPort(port, 'Redis');
    },
    stop: async () => {
      await stopChild(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A private RabbitMQ node (its own name, ports, Mnesia and log directories, no plugins, none of
 * /etc/rabbitmq's settings) beside the shared one. A restart is SIGTERM (a clean shutdown) and start.
 */
export async function startRabbitmq(port: number, distPort: number): Promise<PrivateServer> {
  const dir = privateDir('rabbitmq');
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  writeFileSync(join(dir, 'rabbitmq.conf'), `listeners.tcp.local = 127.0.0.1:${port}\n`);
  writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
  const env = {
    RABBITMQ_NODENAME: `concordchaos${port}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    // Run as root without the Debian wrapper (which would switch users and drop this environment); its own Erlang cookie.
    HOME: dir,
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_FLAGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
  let child = startChild('/usr/lib/rabbitmq/bin/rabbitmq-server', [], env);
  await waitForPort(port, 'RabbitMQ', 180_000);
  return {
    kind: 'rabbitmq',
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    restart: async () => {
      await stopChild(child, 'SIGTERM', 60_000);
      await waitForPortClosed(port, 'RabbitMQ');
      child = startChild('/usr/lib/rabbitmq/bin/rabbitmq-server', [], env);
      await waitForPort(port, 'RabbitMQ', 180_000);
    },
    stop: async () => {
      await stopChild(child, 'SIGTERM', 60_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
