import type { Command } from 'commander';
import type { CommandContext } from '../command-context.js';
import { startConsoleServer } from '../console-server.js';
import { positiveIntOrZero } from './sagas.js';

/**
 * `concord console`: serves the operator console on this machine, its API calls forwarded to
 * the service at --url. It checks the service and the token first, then runs until Ctrl-C.
 */
export function consoleCommand(program: Command, context: (cmd: Command) => CommandContext): void {
  program
    .command('console')
    .description('serve the operator console locally for the service at --url (until Ctrl-C)')
    .option('--port <n>', 'local port (0 picks a free one)', positiveIntOrZero, 8090)
    .option('--json', 'print the address as JSON')
    .action(async (opts: { port: number }, cmd: Command) => {
      const { client, out, token } = context(cmd);
      // A wrong token or an unreachable service fails here, not later in the browser.
      await client.get('/admin/outbox');
      const server = await startConsoleServer(client.baseUrl, opts.port);
      const consoleUrl = `${server.url}/console/${token ? `#token=${encodeURIComponent(token)}` : ''}`;
      out.result({ url: consoleUrl, service: client.baseUrl.origin }, () => `Concord console for ${client.baseUrl.origin}: ${consoleUrl}\n(Ctrl-C stops it)`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          server.close().then(resolve, resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
