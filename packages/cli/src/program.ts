import { Command, Option } from 'commander';
import { commandContext, DEFAULT_URL } from './command-context.js';
import { consoleCommand } from './commands/console.js';
import { dlqCommand } from './commands/dlq.js';
import { outboxCommand } from './commands/outbox.js';
import { positiveInt, sagasCommand } from './commands/sagas.js';
import { timersAndLocksCommands } from './commands/timers-locks.js';
import { viewsCommand } from './commands/views.js';

/** The `concord` command tree. Every command talks to a running service's operator API. */
export function buildProgram(env: NodeJS.ProcessEnv = process.env): Command {
  const program = new Command('concord')
    .description('Operate Concord services: STUCK sagas, outbox, dead letters, views, timers and locks')
    .version('0.1.0')
    .addOption(new Option('--url <url>', `the service's base URL (default ${DEFAULT_URL})`).env('CONCORD_URL'))
    .addOption(new Option('--token <token>', "the service's admin token").env('CONCORD_ADMIN_TOKEN'))
    .option('--timeout <seconds>', 'give up on a request after this long', positiveInt)
    .showHelpAfterError('(run with --help for usage)')
    .enablePositionalOptions(false);
  const context = (cmd: Command) => commandContext(cmd, env);
  sagasCommand(program, context);
  outboxCommand(program, context);
  dlqCommand(program, context);
  viewsCommand(program, context);
  timersAndLocksCommands(program, context);
  consoleCommand(program, context);
  return program;
}
