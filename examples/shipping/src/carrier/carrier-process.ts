import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CarrierProcess {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts the simulated carrier as a child process on `port`. The IPC channel ties its life to
 * this process: when Shipping dies, even by SIGKILL, the carrier stops; its labels stay on disk.
 */
export async function startCarrierProcess(options: {
  port: number;
  host: string;
  dataDir: string;
  loss: number;
}): Promise<CarrierProcess> {
  const script = join(
    dirname(fileURLToPath(import.meta.url)),
    `carrier-main${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  );
  const child: ChildProcess = fork(script, [], {
    execArgv: import.meta.url.endsWith('.ts') ? ['--import', 'tsx', '--conditions=development'] : [],
    env: {
      ...process.env,
      PORT: String(options.port),
      HOST: options.host,
      CONCORD_DATA_DIR: options.dataDir,
      CONCORD_CARRIER_LOSS: String(options.loss),
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { carrierPort: number }).carrierPort));
    child.once('exit', (code) =>
      reject(new Error(`the carrier process exited with code ${code} before it listened`)),
    );
  });
  return {
    url: `http://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
