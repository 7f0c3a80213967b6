import { InvalidArgumentError, Option, type Command } from 'commander';
import type { SagaDetail, SagaList } from '../api-types.js';
import type { CommandContext } from '../command-context.js';
import { CliError, ExitCode } from '../cli-error.js';
import { fields, table, time } from '../output.js';
import { withProgress } from '../progress.js';

const STATUSES = ['RUNNING', 'COMPENSATING', 'COMPLETED', 'COMPENSATED', 'STUCK', 'ABORTED'];

/** `concord sagas list|show|retry|resolve|abort`. */
export function sagasCommand(program: Command, context: (cmd: Command) => CommandContext): void {
  const sagas = program.command('sagas').description('list, inspect and finish saga instances by hand');
  const id = (raw: string) => encodeURIComponent(raw);

  sagas
    .command('list')
    .description('list saga instances, newest first')
    .addOption(new Option('--status <status>', `only sagas in this status (${STATUSES.join(', ')})`).argParser(status))
    .option('--limit <n>', 'at most this many', positiveInt, 100)
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { status?: string; limit: number }, cmd: Command) => {
      const { client, out } = context(cmd);
      const query = new URLSearchParams({ limit: String(opts.limit) });
      if (opts.status) query.set('status', opts.status);
      const list = await client.get<SagaList>(`/admin/sagas?${query}`);
      out.result(list, () => {
        const rows = list.sagas.map((s) => [s.sagaId, s.sagaType, s.status, s.direction, s.stepAttempts, s.failureReason ?? s.lastError, time(s.updatedAt)]);
        const counts = list.counts ? Object.entries(list.counts).map(([k, v]) => `${k} ${v}`).join(', ') : '';
        return `${table(['ID', 'TYPE', 'STATUS', 'DIRECTION', 'ATTEMPTS', 'REASON / LAST ERROR', 'UPDATED'], rows, 'no sagas')}${counts ? `\n\nall sagas: ${counts}` : ''}`;
      });
    });

  sagas
    .command('show')
    .description("a saga's state and its whole history")
    .argument('<id>', 'saga id')
    .option('--json', 'print JSON')
    .action(async (sagaId: string, _opts: unknown, cmd: Command) => {
      const { client, out } = context(cmd);
      const saga = await client.get<SagaDetail>(`/admin/sagas/${id(sagaId)}`);
      out.result(saga, () => showSaga(saga));
    });

  sagas
    .command('retry')
    .description('run the current step (or compensation) of a STUCK saga again')
    .argument('<id>', 'saga id')
    .option('--note <text>', 'why, recorded in the saga history')
    .option('--json', 'print the saga after the retry as JSON')
    .action(async (sagaId: string, opts: { note?: string }, cmd: Command) => {
      const { client, out } = context(cmd);
      const saga = await withProgress(`retrying ${sagaId}`, () =>
        client.post<SagaDetail>(`/admin/sagas/${id(sagaId)}/retry`, opts.note ? { note: opts.note } : {}),
      );
      out.result(saga, () => `saga ${sagaId} is now ${saga.status}`);
    });

  sagas
    .command('resolve')
    .description('mark the current step of a STUCK saga done or compensated by hand')
    .argument('<id>', 'saga id')
    .requiredOption('--step <name>', 'the step being resolved (the one the saga is stuck on)')
    .addOption(new Option('--as <outcome>', 'what a person did about the step').choices(['done', 'compensated']).makeOptionMandatory())
    .requiredOption('--note <text>', 'what was done and why; recorded with who did it')
    .option('--json', 'print the saga after the action as JSON')
    .action(async (sagaId: string, opts: { step: string; as: 'done' | 'compensated'; note: string }, cmd: Command) => {
      if (!opts.note.trim()) throw new CliError('--note must say what was done', ExitCode.USAGE);
      const { client, out } = context(cmd);
      const saga = await client.post<SagaDetail>(`/admin/sagas/${id(sagaId)}/resolve`, { step: opts.step, as: opts.as, note: opts.note });
      out.result(saga, () => `saga ${sagaId}: step ${opts.step} marked ${opts.as}; saga is now ${saga.status}`);
    });

  sagas
    .command('abort')
    .description('stop a saga for good, leaving what it did as it is (a person takes over)')
    .argument('<id>', 'saga id')
    .option('--note <text>', 'why; recorded with who did it', 'aborted from the concord CLI')
    .option('--json', 'print the saga after the action as JSON')
    .action(async (sagaId: string, opts: { note: string }, cmd: Command) => {
      const { client, out } = context(cmd);
      const saga = await client.post<SagaDetail>(`/admin/sagas/${id(sagaId)}/abort`, { note: opts.note });
      out.result(saga, () => `saga ${sagaId} is now ${saga.status}`);
    });
}

function showSaga(s: SagaDetail): string {
  const head = fields([
    ['saga', s.sagaId],
    ['type', s.sagaType],
    ['status', s.status],
    ['direction', s.direction],
    ['current step', s.currentStep],
    ['attempts', s.stepAttempts],
    ['failure', s.failureReason],
    ['last error', s.lastError],
    ['version', s.version],
    ['created', time(s.createdAt)],
    ['updated', time(s.updatedAt)],
    ['data', JSON.stringify(s.data)],
  ]);
  const rows = s.history.map((h) => [time(h.at), h.event, h.step, detail(h.detail)]);
  return `${head}\n\nhistory\n${table(['AT', 'EVENT', 'STEP', 'DETAIL'], rows, '(no history)')}`;
}

function detail(d: Readonly<Record<string, unknown>>): string {
  return Object.entries(d)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

function status(raw: string): string {
  const upper = raw.toUpperCase();
  if (!STATUSES.includes(upper)) throw new InvalidArgumentError(`expected one of ${STATUSES.join(', ')}`);
  return upper;
}

export function positiveInt(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

export function positiveIntOrZero(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('expected a port number (0 for any free port)');
  return n;
}
