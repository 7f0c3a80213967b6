import type { Command } from 'commander';
import type { CommandContext } from '../command-context.js';
import { withProgress } from '../progress.js';

/** `concord views rebuild NAME`: rebuilds a CQRS view from its source events. */
export function viewsCommand(program: Command, context: (cmd: Command) => CommandContext): void {
  program
    .command('views')
    .description('CQRS views (projections)')
    .command('rebuild')
    .description('drop a view and build it again from what its sources recorded')
    .argument('<name>', 'the view, e.g. order-history')
    .option('--json', 'print JSON')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { client, out } = context(cmd);
      const result = await withProgress(`rebuilding view ${name}`, () => client.post<Record<string, unknown>>(`/admin/views/${encodeURIComponent(name)}/rebuild`));
      out.result(result, () => `view ${name} rebuilt`);
    });
}
