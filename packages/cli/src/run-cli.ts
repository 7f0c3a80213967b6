import { CommanderError, type Command } from 'commander';
import { CliError, ExitCode } from './cli-error.js';
import { buildProgram } from './program.js';

/** Runs `concord` with `argv`; returns the exit code instead of exiting (tests call this). */
export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const program = buildProgram(env).exitOverride();
  // Subcommands inherit exitOverride only when set before they are added; set it on each.
  for (const cmd of allCommands(program)) cmd.exitOverride();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version "errors" are successes; commander already printed the reason otherwise.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.OK;
      return ExitCode.USAGE;
    }
    if (error instanceof CliError) {
      process.stderr.write(`concord: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`concord: ${(error as Error).message ?? String(error)}\n`);
    return ExitCode.REFUSED;
  }
}

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}
