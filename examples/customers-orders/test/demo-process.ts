import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const scripts = {
  /** `npm start`: one process. */
  demo: join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.ts'),
  /** `npm run start:distributed`: the launcher, its gateway and two instances of each service. */
  distributed: join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'distributed', 'main.ts'),
} as const;

export interface DemoProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly stderr: () => string;
  /** What it printed on stdout so far (its log lines among it). */
  readonly stdout: () => string;
  /** SIGTERM (or `signal`), resolved when the process has exited. */
  readonly stop: (signal?: NodeJS.Signals) => Promise<void>;
}

/**
 * The demo as a child process on ports the system picks (PORT=0, so no test ever meets a port
 * another process holds); resolves with the URL it printed once it is ready.
 */
export async function spawnDemo(
  env: Record<string, string>,
  options: { script?: keyof typeof scripts; readyTimeoutMs?: number; echoStderr?: boolean } = {},
): Promise<DemoProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', scripts[options.script ?? 'demo']], {
    env: { ...process.env, PORT: '0', CONCORD_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err += c;
    if (options.echoStderr) process.stderr.write(c);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdout!.on('data', (c: Buffer) => (out += c));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`demo not ready within ${options.readyTimeoutMs ?? 180_000} ms: ${err}`));
    }, options.readyTimeoutMs ?? 180_000);
    child.stdout!.on('data', () => {
      const m = /Concord (?:distributed )?demo ready: (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!.replace('localhost', '127.0.0.1'));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`demo exited (${code}) before it was ready: ${err}`));
    });
  });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return { child, url, stderr: () => err, stdout: () => out, stop };
}
