import type { Command } from 'commander';
import type { CommandContext } from '../command-context.js';
import { CliError } from '../cli-error.js';
import { table, time, type Cell } from '../output.js';

/**
 * `concord timers list` and `concord locks list`. Services without durable timers or semantic
 * locks do not serve these routes; a 404 then says so instead of failing.
 */
export function timersAndLocksCommands(program: Command, context: (cmd: Command) => CommandContext): void {
  for (const kind of ['timers', 'locks'] as const) {
    program
      .command(kind)
      .description(kind === 'timers' ? 'durable timers (timeouts, reservation expiry)' : 'semantic locks held by sagas')
      .command('list')
      .description(kind === 'timers' ? 'timers not yet fired' : 'locks currently held')
      .option('--json', 'print JSON instead of a table')
      .action(async (_opts: unknown, cmd: Command) => {
        const { client, out } = context(cmd);
        let body: Record<string, unknown>;
        try {
          body = await client.get<Record<string, unknown>>(`/admin/${kind}`);
        } catch (error) {
          if (error instanceof CliError && error.status === 404) {
            out.result({ [kind]: [], available: false }, () => `this service has no ${kind}`);
            return;
          }
          throw error;
        }
        const items = listIn(body, kind);
        out.result(body, () => genericTable(items, `no ${kind}`));
      });
  }
}

/** The array in `{ timers: [...] }`, `{ items: [...] }` or a bare array. */
function listIn(body: unknown, kind: string): Record<string, unknown>[] {
  if (Array.isArray(body)) return body as Record<string, unknown>[];
  const obj = body as Record<string, unknown>;
  const found = obj[kind] ?? obj.items ?? Object.values(obj).find(Array.isArray);
  if (Array.isArray(found)) return found as Record<string, unknown>[];
  // Per-service maps ({ service: [...] }) are flattened with the service as the first column.
  return Object.entries(obj).flatMap(([service, v]) => (Array.isArray(v) ? v.map((x) => ({ service, ...(x as object) })) : []));
}

function genericTable(items: Record<string, unknown>[], empty: string): string {
  const keys = [...new Set(items.flatMap((i) => Object.keys(i)))].slice(0, 8);
  const cell = (key: string, v: unknown): Cell => {
    if (typeof v === 'number' && /At$|^at$|expires|due/i.test(key) && v > 1e12) return time(v);
    return typeof v === 'object' && v !== null ? JSON.stringify(v) : (v as Cell);
  };
  return table(
    keys.map((k) => k.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase()),
    items.map((i) => keys.map((k) => cell(k, i[k]))),
    empty,
  );
}
