import { Socket } from 'node:net';

export interface ServiceCheck {
  readonly name: string;
  readonly host?: string;
  readonly port: number;
}

export const services = {
  postgres: { name: 'PostgreSQL', port: 5432 },
  mariadb: { name: 'MariaDB', port: 3306 },
  redis: { name: 'Redis', port: 6379 },
  rabbitmq: { name: 'RabbitMQ', port: 5672 },
  nats: { name: 'NATS', port: 4222 },
} as const satisfies Record<string, ServiceCheck>;

function reachable(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

/**
 * Whether a test file may use a local server. On a user's machine without it the tests are
 * skipped with a message naming it; under CI (`CI=true`) a missing server fails the run.
 */
export async function serviceAvailable(service: ServiceCheck): Promise<boolean> {
  const host = service.host ?? '127.0.0.1';
  if (await reachable(host, service.port, 1_000)) return true;
  const message = `${service.name} is not reachable on ${host}:${service.port}`;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`${message} (required under CI)`);
  console.warn(`[concord] skipping tests that need ${service.name}: ${message}`);
  return false;
}
