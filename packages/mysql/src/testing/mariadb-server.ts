import { execFile } from 'node:child_process';
import { Socket } from 'node:net';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { TEST_SERVER_URI } from './test-database.js';

const run = promisify(execFile);

async function processRunning(): Promise<boolean> {
  try {
    await run('pgrep', ['-x', 'mariadbd']);
    return true;
  } catch {
    return false;
  }
}

function portOpen(port = 3306): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => (socket.destroy(), resolve(ok));
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => done(true));
  });
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Shuts the local MariaDB down and waits until its process is gone (the port closes earlier). */
export async function stopMariadb(): Promise<void> {
  await run('mariadb-admin', ['-uroot', '-h127.0.0.1', 'shutdown']);
  await until(async () => !(await processRunning()), 60_000, 'mariadbd exit');
}

/** Starts the local MariaDB (a no-op when it runs) and waits until it answers queries. */
export async function startMariadb(): Promise<void> {
  if (!(await processRunning())) {
    await run('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', '/usr/sbin/mariadbd']);
  }
  await until(() => portOpen(), 60_000, 'MariaDB port 3306');
  await until(
    async () => {
      try {
        const c = await mysql.createConnection({ uri: TEST_SERVER_URI });
        await c.query('SELECT 1');
        await c.end();
        return true;
      } catch {
        return false;
      }
    },
    30_000,
    'MariaDB answering',
  );
}
