import type { Command } from 'commander';
import type { OutboxStatus } from '../api-types.js';
import type { CommandContext } from '../command-context.js';
import { age, table } from '../output.js';

/** `concord outbox status`: messages written but not yet handed to the broker, per service. */
export function outboxCommand(program: Command, context: (cmd: Command) => CommandContext): void {
  program
    .command('outbox')
    .description('the transactional outbox of each service')
    .command('status')
    .description('unsent messages and the age of the oldest, per service')
    .option('--json', 'print JSON instead of a table')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out } = context(cmd);
      const status = await client.get<OutboxStatus>('/admin/outbox');
      out.result(status, () =>
        table(
          ['SERVICE', 'UNSENT', 'OLDEST'],
          Object.entries(status.outbox).map(([service, lag]) => [service, lag.count, age(lag.oldestAgeMs)]),
          'no services with an outbox',
        ),
      );
    });
}
