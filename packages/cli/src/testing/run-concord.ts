import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './demo-process.js';

export interface ConcordRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON (throws with the output when it is not). */
  json<T = Record<string, any>>(): T; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Runs the real `concord` executable (bin/concord.js, as `npx concord` does) in its own process. */
export function runConcord(args: readonly string[], env: Record<string, string> = {}): Promise<ConcordRun> {
  const bin = join(REPO_ROOT, 'packages/cli/bin/concord.js');
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: REPO_ROOT, env: { ...process.env, CONCORD_URL: '', CONCORD_ADMIN_TOKEN: '', ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({
        code,
        stdout,
        stderr,
        json<T>() {
          try {
            return JSON.parse(stdout) as T;
          } catch {
            throw new Error(`concord ${args.join(' ')} printed no JSON (exit ${code}):\n${stdout}\n${stderr}`);
          }
        },
      });
    });
  });
}
