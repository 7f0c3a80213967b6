import type { Command } from 'commander';
import type { DeadLetter, DeadLetters } from '../api-types.js';
import type { CommandContext } from '../command-context.js';
import { CliError, ExitCode } from '../cli-error.js';
import { table, time } from '../output.js';
import { withProgress } from '../progress.js';

/**
 * `concord dlq list|replay`. Dead letters are numbered per service, so a letter's id on the
 * command line is `SERVICE:ID` as `dlq list` prints it; a bare number is accepted when only
 * one service has a letter with that number.
 */
export function dlqCommand(program: Command, context: (cmd: Command) => CommandContext): void {
  const dlq = program.command('dlq').description('messages that failed every attempt (dead letters)');

  dlq
    .command('list')
    .description('dead letters of every service, not yet replayed')
    .option('--json', 'print JSON instead of a table')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out } = context(cmd);
      const all = await client.get<DeadLetters>('/admin/dead-letters');
      const letters = flatten(all);
      out.result({ deadLetters: letters }, () =>
        table(
          ['ID', 'CONSUMER', 'MESSAGE TYPE', 'ATTEMPTS', 'FAILED', 'REPLAYED', 'ERROR'],
          letters.map((l) => [l.ref, l.consumer, l.message.type, l.attempts, time(l.failedAt), time(l.replayedAt), l.error]),
          'no dead letters',
        ),
      );
    });

  dlq
    .command('replay')
    .description('send a dead letter again to the consumer that failed it')
    .argument('<id>', 'SERVICE:ID as `dlq list` prints it (or a bare ID when unambiguous)')
    .option('--json', 'print JSON')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const { client, out } = context(cmd);
      const { service, id } = await resolveRef(ref, () => client.get<DeadLetters>('/admin/dead-letters'));
      const result = await withProgress(`replaying ${service}:${id}`, () =>
        client.post<{ replayed: { id: string } }>(`/admin/dead-letters/${encodeURIComponent(service)}/${id}/replay`),
      );
      out.result({ service, id, ...result }, () => `dead letter ${service}:${id} replayed as message ${result.replayed?.id ?? '?'}`);
    });
}

export type ListedDeadLetter = DeadLetter & { readonly service: string; readonly ref: string };

function flatten(all: DeadLetters): ListedDeadLetter[] {
  return Object.entries(all.deadLetters)
    .flatMap(([service, letters]) => letters.map((l) => ({ ...l, service, ref: `${service}:${l.id}` })))
    .sort((a, b) => a.failedAt - b.failedAt);
}

async function resolveRef(ref: string, list: () => Promise<DeadLetters>): Promise<{ service: string; id: number }> {
  const m = /^(?:(.+)[:/])?(\d+)$/.exec(ref.trim());
  if (!m) throw new CliError(`dead letter id must be SERVICE:ID (as \`concord dlq list\` prints it), got "${ref}"`, ExitCode.USAGE);
  const id = Number(m[2]);
  if (m[1]) return { service: m[1], id };
  const matches = flatten(await list()).filter((l) => l.id === id);
  if (matches.length === 0) throw new CliError(`not found: no dead letter ${id} in any service`, ExitCode.REFUSED, 404);
  if (matches.length > 1) {
    throw new CliError(`dead letter ${id} is ambiguous: ${matches.map((l) => l.ref).join(', ')}; say which`, ExitCode.USAGE);
  }
  return { service: matches[0]!.service, id };
}
