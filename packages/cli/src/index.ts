export { runCli } from './run-cli.js';
export { buildProgram } from './program.js';
export { AdminClient, type AdminClientOptions } from './admin-client.js';
export { CliError, ExitCode } from './cli-error.js';
