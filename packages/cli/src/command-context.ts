import type { Command } from 'commander';
import { AdminClient } from './admin-client.js';
import { createOutput, type Output } from './output.js';

export interface CommandContext {
  readonly client: AdminClient;
  readonly out: Output;
  readonly url: string;
  readonly token: string | undefined;
}

export interface GlobalOptions {
  readonly url?: string;
  readonly token?: string;
  readonly json?: boolean;
  readonly timeout?: number;
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** The client and output of one command: flags win over CONCORD_URL / CONCORD_ADMIN_TOKEN. */
export function commandContext(cmd: Command, env: NodeJS.ProcessEnv = process.env): CommandContext {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  const url = opts.url || env.CONCORD_URL || DEFAULT_URL;
  const token = opts.token || env.CONCORD_ADMIN_TOKEN || undefined;
  return {
    client: new AdminClient({ url, token, ...(opts.timeout ? { timeoutMs: opts.timeout * 1000 } : {}) }),
    out: createOutput(opts.json === true),
    url,
    token,
  };
}
