import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const DEMO_MAIN = join(REPO_ROOT, 'examples/customers-orders/src/main.ts');

export interface DemoProcess {
  readonly url: string;
  readonly token: string;
  /** Who manual actions are recorded as (the token's name). */
  readonly actor: string;
  readonly dataDir: string;
  /** Everything the demo wrote to stdout and stderr so far (shown when a test fails). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * The demo as users run it (`npm start`): its own process on an ephemeral port, SQLite files
 * in a fresh directory (unless `env` points it at a server), with an admin token set.
 */
export async function startDemoProcess(env: Record<string, string> = {}): Promise<DemoProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'concord-ops-'));
  const token = `test-token-${Math.random().toString(36).slice(2)}`;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', DEMO_MAIN], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: '0', CONCORD_DATA_DIR: dataDir, CONCORD_ADMIN_TOKEN: `operator-jane:${token}`, CONCORD_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start within 60 s:\n${log}`)), 60_000);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const m = /Concord demo ready: (http:\/\/[^\s]+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!.replace('localhost', '127.0.0.1'));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`demo exited with ${code} before it was ready:\n${log}`));
    });
  });
  return {
    url,
    token,
    actor: 'operator-jane',
    dataDir,
    output: () => log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
