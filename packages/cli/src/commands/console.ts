import type { Command } from 'commander';
import type { CommandContext } from '../command-context.js';
import { CliError, ExitCode } from '../cli-error.js';

/** `concord console`: checks the service's console answers and prints where to open it. */
export function consoleCommand(program: Command, context: (cmd: Command) => CommandContext): void {
  program
    .command('console')
    .description("print the address of the service's operator console (after checking it answers)")
    .option('--json', 'print JSON')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out, url } = context(cmd);
      const consoleUrl = new URL('/console/', url);
      let res: Response;
      try {
        res = await fetch(consoleUrl, { signal: AbortSignal.timeout(10_000) });
      } catch {
        throw new CliError(`cannot reach ${consoleUrl.origin}: connection refused (is the service running? set --url or CONCORD_URL)`, ExitCode.UNREACHABLE);
      }
      if (!res.ok) throw new CliError(`${consoleUrl.origin} serves no console (${res.status} on /console/)`, ExitCode.REFUSED, res.status);
      // The token is checked before it is printed, so a wrong one fails here, not in the browser.
      await client.get('/admin/outbox');
      out.result({ url: consoleUrl.toString() }, () => `Concord console: ${consoleUrl}  (log in with your admin token)`);
    });
}
